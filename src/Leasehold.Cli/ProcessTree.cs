using System.Diagnostics;
using System.Globalization;

namespace Leasehold.Cli;

/// <summary>
/// A process's descendants on Linux, found by following the parent links in <c>/proc/PID/stat</c>, and
/// stopping all of them. Parent links, not process groups or sessions: a descendant that made a group
/// or a session of its own (<c>setsid</c>, a shell's job control) is still found. One that
/// daemonized by double-forking is found as long as an ancestor is a child subreaper
/// (<see cref="Posix.BecomeSubreaper"/>), which <c>run</c> and its guard are: orphans then become the
/// subreaper's children instead of init's.
/// </summary>
internal static class ProcessTree
{
    /// <summary>Between two looks at the tree while waiting for it to end.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>How long SIGKILL is repeated before giving up on a process that does not end (one stuck in the kernel).</summary>
    public static readonly TimeSpan KillBound = TimeSpan.FromSeconds(5);

    /// <summary>Linux with <c>/proc</c> mounted.</summary>
    public static bool Supported { get; } = OperatingSystem.IsLinux() && File.Exists("/proc/self/stat");

    /// <summary>One process as <c>/proc/PID/stat</c> shows it.</summary>
    public readonly record struct Entry(int Pid, int Parent, bool Zombie);

    /// <summary>Every process below <paramref name="root"/> (children, their children, ...), zombies included.</summary>
    public static List<Entry> Descendants(int root)
    {
        var byParent = new Dictionary<int, List<Entry>>();
        Span<byte> buffer = stackalloc byte[1024];
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(directory.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Read(pid, buffer) is { } entry)
            {
                if (!byParent.TryGetValue(entry.Parent, out var siblings))
                {
                    byParent[entry.Parent] = siblings = [];
                }
                siblings.Add(entry);
            }
        }
        var found = new List<Entry>();
        var pending = new Queue<int>([root]);
        while (pending.TryDequeue(out var parent))
        {
            if (byParent.Remove(parent, out var children))
            {
                found.AddRange(children);
                children.ForEach(c => pending.Enqueue(c.Pid));
            }
        }
        return found;
    }

    /// <summary>Whether <paramref name="pid"/> is a child of this process that has not ended.</summary>
    public static bool IsRunningChild(int pid)
        => Read(pid, stackalloc byte[1024]) is { Zombie: false } entry && entry.Parent == Environment.ProcessId;

    /// <summary>This process's children, from <c>/proc/self/task/*/children</c> where the kernel has it, else from the whole tree.</summary>
    public static List<int> Children()
    {
        var self = Environment.ProcessId;
        try
        {
            var children = new List<int>();
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                foreach (var pid in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    children.Add(int.Parse(pid, NumberStyles.None, CultureInfo.InvariantCulture));
                }
            }
            return children;
        }
        catch (FileNotFoundException)
        {
            return [.. Descendants(self).Where(e => e.Parent == self).Select(e => e.Pid)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A thread ended while being looked at: next time.
            return [];
        }
    }

    /// <summary>
    /// The descendants of this process that still run, except <paramref name="spare"/>. Zombies do not
    /// run; those that are this process's own children are reaped here, except <paramref name="managed"/>,
    /// whose exit status belongs to its <see cref="Process"/>.
    /// </summary>
    public static List<int> Running(int spare, int managed)
    {
        var self = Environment.ProcessId;
        var running = new List<int>();
        foreach (var entry in Descendants(self))
        {
            if (entry.Zombie)
            {
                if (entry.Parent == self && entry.Pid != managed)
                {
                    Posix.Reap(entry.Pid);
                }
            }
            else if (entry.Pid != spare)
            {
                running.Add(entry.Pid);
            }
        }
        return running;
    }

    /// <summary>
    /// Stops every descendant of this process but <paramref name="spare"/>: SIGTERM (and SIGCONT, so a
    /// stopped one can act on it) to each, then, if any still runs after <paramref name="grace"/>, SIGKILL
    /// (see <see cref="KillAsync"/>). Returns those that could not be ended (none, unless a process hangs
    /// in the kernel).
    /// </summary>
    public static async Task<List<int>> StopAsync(int spare, int managed, TimeSpan grace)
    {
        foreach (var pid in Running(spare, managed))
        {
            Posix.Kill(pid, Posix.SIGTERM);
            Posix.Kill(pid, Posix.SIGCONT);
        }
        var waited = Stopwatch.StartNew();
        while (Running(spare, managed).Count > 0)
        {
            if (waited.Elapsed >= grace)
            {
                return await KillAsync(spare, managed);
            }
            var left = grace - waited.Elapsed;
            await Task.Delay(left < Poll ? left : Poll);
        }
        return [];
    }

    /// <summary>
    /// SIGKILL to every descendant of this process but <paramref name="spare"/>, again and again (one may
    /// have forked between the look and the kill) until none runs, for at most <see cref="KillBound"/>.
    /// Returns those still running then.
    /// </summary>
    public static async Task<List<int>> KillAsync(int spare, int managed)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var running = Running(spare, managed);
            if (running.Count == 0 || waited.Elapsed >= KillBound)
            {
                return running;
            }
            running.ForEach(pid => Posix.Kill(pid, Posix.SIGKILL));
            await Task.Delay(TimeSpan.FromMilliseconds(5));
        }
    }

    /// <summary>
    /// <c>PID (COMM) S PPID ...</c>: the name may hold spaces and parentheses, so the fields are read from
    /// the last ')'. Null when the process is gone or the line is not as expected.
    /// </summary>
    private static Entry? Read(int pid, Span<byte> buffer)
    {
        int length;
        try
        {
            using var handle = File.OpenHandle($"/proc/{pid}/stat");
            length = RandomAccess.Read(handle, buffer, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var line = buffer[..length];
        var close = line.LastIndexOf((byte)')');
        if (close < 0 || close + 4 >= line.Length)
        {
            return null;
        }
        var state = line[close + 2];
        var rest = line[(close + 4)..];
        var space = rest.IndexOf((byte)' ');
        return space > 0 && int.TryParse(rest[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var parent)
            ? new Entry(pid, parent, state is (byte)'Z' or (byte)'X')
            : null;
    }
}
