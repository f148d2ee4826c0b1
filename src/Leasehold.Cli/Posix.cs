using System.Runtime.InteropServices;

namespace Leasehold.Cli;

/// <summary>The bits of POSIX that .NET does not expose: sending an arbitrary signal to a process.</summary>
internal static partial class Posix
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when it could not (gone already).</summary>
    public static bool Kill(int pid, int signal) => !OperatingSystem.IsWindows() && SysKill(pid, signal) == 0;

    /// <summary>The POSIX number of a signal .NET names abstractly.</summary>
    public static int Number(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => SIGINT,
        PosixSignal.SIGTERM => SIGTERM,
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "not forwarded"),
    };

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
