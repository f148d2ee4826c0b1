using System.Globalization;

namespace Leasehold.LoadGen;

/// <summary>
/// Busy time of the whole machine from /proc/stat (Linux), so a report can tell how much CPU other
/// processes took during the measured window. Null where /proc/stat is not available.
/// </summary>
internal static class MachineCpu
{
    /// <summary>Busy and total jiffies summed over all cores, or null.</summary>
    public static (long Busy, long Total)? Read()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal (guest time is already in user)
            var total = fields.Take(8).Sum();
            var idle = fields[3] + fields[4];
            return (total - idle, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Jiffies per second as the kernel reports them to user space (USER_HZ, 100 on Linux).</summary>
    public const double TicksPerSecond = 100.0;
}
