using System.Runtime.InteropServices;

namespace Leasehold.Server.Connections;

/// <summary>
/// How many connections the front-ends may hold open at once, by default: every connection is a file
/// descriptor, and a process out of descriptors fails in places that cannot recover (the runtime has
/// aborted with "Out of memory."). The budget is the descriptor soft limit minus <see cref="Reserve"/>,
/// capped at <see cref="Cap"/>; the idserver TCP front-end, when on, takes a quarter of it (at most
/// <see cref="IdServerCap"/>) and HTTP the rest. docs/operations.md documents the rule.
/// </summary>
public static partial class ConnectionBudget
{
    /// <summary>Descriptors kept for everything that is not a client connection: the runtime's own (about
    /// 200 at start-up, two for each loaded assembly, more as assemblies load), log segments, snapshots,
    /// the directory lock, listening sockets, and connections being accepted only to be refused.</summary>
    public const int Reserve = 512;

    /// <summary>Descriptors that configured limits must leave free, or start-up is refused: about what the
    /// runtime holds on its own, so settings that would certainly exhaust the descriptors do not start.</summary>
    public const int MinimumReserve = 256;

    /// <summary>Beyond this many idle connections the limit is about memory and scheduling, not descriptors.</summary>
    public const int Cap = 10_000;

    public const int IdServerCap = 1_000;

    /// <summary>Where the limit cannot be read (not Linux): a budget that fits the common 1024 limit.</summary>
    public const int Fallback = 1_000;

    /// <summary>Never less than this: a server that takes so few connections is configured, not derived.</summary>
    public const int Floor = 16;

    private const int RlimitNofile = 7;

    /// <summary>The descriptor soft limit of this process (after the runtime raised it to the hard limit), or null when unknown.</summary>
    public static long? DescriptorLimit { get; } = ReadDescriptorLimit();

    /// <summary>The connections all front-ends together get by default.</summary>
    public static int Total => TotalFor(DescriptorLimit);

    public static int TotalFor(long? descriptorLimit) => descriptorLimit is { } limit
        ? (int)Math.Clamp(limit - Reserve, Floor, Cap)
        : Fallback;

    /// <summary>The idserver TCP front-end's default share.</summary>
    public static int IdServerDefault => Math.Max(Floor, Math.Min(IdServerCap, Total / 4));

    /// <summary>HTTP's default: what the idserver front-end (if any) leaves.</summary>
    public static int HttpDefault(int idServerConnections) => Math.Max(Floor, Total - idServerConnections);

    private static long? ReadDescriptorLimit()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        try
        {
            if (GetRLimit(RlimitNofile, out var limit) != 0)
            {
                return null;
            }
            // RLIM_INFINITY is all ones: treat as "as many as we like", which the cap then bounds.
            return limit.Current > long.MaxValue ? long.MaxValue : (long)limit.Current;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public nuint Current;
        public nuint Maximum;
    }

    // libc.so.6 rather than "libc": on glibc "libc.so" is a linker script that dlopen cannot load.
    [LibraryImport("libc.so.6", EntryPoint = "getrlimit")]
    private static partial int GetRLimit(int resource, out RLimit limit);
}
