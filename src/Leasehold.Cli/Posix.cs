using System.Runtime.InteropServices;

namespace Leasehold.Cli;

/// <summary>
/// The bits of POSIX (and of Linux) that .NET does not expose: sending an arbitrary signal, reaping one
/// process, the parent-death signal, the child-subreaper flag and close-on-exec.
/// </summary>
internal static partial class Posix
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;

    private const int PR_SET_PDEATHSIG = 1;
    private const int PR_SET_CHILD_SUBREAPER = 36;
    private const int WNOHANG = 1;
    private const int F_GETFD = 1;
    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when it could not (gone already).</summary>
    public static bool Kill(int pid, int signal) => !OperatingSystem.IsWindows() && SysKill(pid, signal) == 0;

    /// <summary>The POSIX number of a signal .NET names abstractly.</summary>
    public static int Number(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => SIGINT,
        PosixSignal.SIGTERM => SIGTERM,
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "not forwarded"),
    };

    /// <summary>This process's parent (Linux and other Unix).</summary>
    public static int ParentPid() => SysGetParentPid();

    /// <summary>
    /// Linux: makes orphaned descendants of this process its children (rather than init's), so they stay
    /// in its tree. False when it could not.
    /// </summary>
    public static bool BecomeSubreaper() => OperatingSystem.IsLinux() && SysPrctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;

    /// <summary>Linux: <paramref name="signal"/> is sent to this process when the thread that started it ends (its parent dies, mostly).</summary>
    public static bool SetParentDeathSignal(int signal) => OperatingSystem.IsLinux() && SysPrctl(PR_SET_PDEATHSIG, (nuint)signal, 0, 0, 0) == 0;

    /// <summary>Reaps <paramref name="pid"/>, a child of this process, if it has ended; never waits.</summary>
    public static bool Reap(int pid) => !OperatingSystem.IsWindows() && SysWaitPid(pid, out _, WNOHANG) == pid;

    /// <summary>Sets or clears close-on-exec on a file descriptor: whether a program this process starts inherits it.</summary>
    public static void SetCloseOnExec(nint fd, bool closeOnExec)
    {
        var flags = SysFcntl((int)fd, F_GETFD, 0);
        if (flags < 0 || SysFcntl((int)fd, F_SETFD, closeOnExec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC) < 0)
        {
            throw new IOException($"fcntl on descriptor {fd} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int SysGetParentPid();

    // prctl and fcntl are variadic in C; on the Linux ABIs .NET runs on, integer arguments after the fixed
    // ones are passed exactly as fixed ones, so a fixed signature calls them correctly.
    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int SysPrctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int SysFcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int SysWaitPid(int pid, out int status, int options);
}
