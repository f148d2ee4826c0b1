using System.ComponentModel;
using System.Diagnostics;
using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;

namespace Leasehold.Cli;

/// <summary>When the command must be stopped before it exits by itself, and how.</summary>
/// <param name="Lost">Fires when it must stop: the lease is lost or about to be, or the local --ttl ran out.</param>
/// <param name="Message">What to say then.</param>
/// <param name="Grace">How long its processes get between SIGTERM and SIGKILL.</param>
internal sealed record StopRule(CancellationToken Lost, Func<string> Message, TimeSpan Grace);

/// <summary>
/// Runs the command under the lease: the tool's own standard streams, its environment plus the lease's
/// variables. Waits for it to exit, or for <see cref="StopRule.Lost"/>: then every process of the
/// command's tree gets SIGTERM, those still running after the grace SIGKILL, and the result is
/// <see cref="ExitCodes.Lost"/> once none of them runs.
/// <para>
/// On Linux this process becomes a child subreaper and the command is started through
/// <see cref="CommandGuard"/>, so the tree is every descendant (<see cref="ProcessTree"/>) and dies with
/// this process however it dies. Elsewhere the command is started directly, SIGTERM goes to it alone
/// and SIGKILL to the tree .NET can find (<see cref="Process.Kill(bool)"/>).
/// </para>
/// </summary>
internal static class ChildRunner
{
    /// <summary>The grace between SIGTERM and SIGKILL unless <c>--kill-grace</c> says otherwise (less for a short-lived lease).</summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(5);

    /// <summary>How long the guard may take to follow its command once the tree is stopped.</summary>
    private static readonly TimeSpan GuardExit = TimeSpan.FromSeconds(5);

    /// <summary>The child's exit code (128+N when a signal ended it), or <see cref="ExitCodes.Lost"/>.</summary>
    /// <param name="command">The program and its arguments (no shell).</param>
    /// <param name="environment">Variables added to this process's environment for the child.</param>
    /// <param name="signals">Where SIGINT/SIGTERM are forwarded from while the child runs.</param>
    /// <param name="stop">When and how to stop the command before it exits.</param>
    /// <param name="json">Say things as JSON.</param>
    /// <param name="lockFiles">Lock files (<c>--local</c>) the guard holds too, so they are freed only once nothing of the command runs.</param>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, SignalForwarder signals, StopRule stop, bool json,
        IReadOnlyList<SafeFileHandle>? lockFiles = null)
    {
        var tree = ProcessTree.Supported && Posix.BecomeSubreaper();
        var guard = tree ? CommandGuard.SelfCommand() : null;
        // The process to wait for (the guard, or the command itself) and the command's pid.
        var (process, pid) = guard is not null
            ? await StartGuardedAsync(guard, command, environment, lockFiles ?? [])
            : StartDirectly(command, environment);
        using (process)
        {
            signals.Attach(pid);
            try
            {
                var exited = process.WaitForExitAsync(CancellationToken.None);
                if (await Task.WhenAny(exited, Task.Delay(Timeout.InfiniteTimeSpan, stop.Lost)) == exited)
                {
                    await exited;
                    if (guard is not null && ProcessTree.IsRunningChild(pid))
                    {
                        // The guard exits after its command, unless it was killed itself: then the command,
                        // orphaned, is this process's child now, and must not run on once the lease is released.
                        Failures.Report(json, process.ExitCode, "guard-lost",
                            $"leasehold's guard of {command[0]} ended (exit {process.ExitCode}) while {command[0]} (pid {pid}) ran; stopping it and every process it started");
                        await StopTreeAsync(spare: -1, managed: -1, stop.Grace, json, process.ExitCode);
                    }
                    return process.ExitCode;
                }
                Failures.Report(json, ExitCodes.Lost, "lost",
                    stop.Message() + $"; stopping {command[0]} (pid {pid}) and every process it started: SIGTERM, SIGKILL {Durations.Format(stop.Grace)} later");
                if (tree)
                {
                    // The guard is spared: it exits by itself once the command has, and holds the lock files till then.
                    await StopTreeAsync(spare: guard is not null ? process.Id : -1, managed: process.Id, stop.Grace, json, ExitCodes.Lost);
                    if (await Task.WhenAny(exited, Task.Delay(GuardExit)) != exited)
                    {
                        process.Kill();
                    }
                }
                else
                {
                    Posix.Kill(pid, Posix.SIGTERM);
                    if (await Task.WhenAny(exited, Task.Delay(stop.Grace)) != exited)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
                await exited;
                return ExitCodes.Lost;
            }
            finally
            {
                signals.Detach();
            }
        }
    }

    /// <summary><see cref="ProcessTree.StopAsync"/>, saying which processes it could not end (with the exit code that follows).</summary>
    private static async Task StopTreeAsync(int spare, int managed, TimeSpan grace, bool json, int exitCode)
    {
        var left = await ProcessTree.StopAsync(spare, managed, grace);
        if (left.Count > 0)
        {
            Failures.Report(json, exitCode, "still-running",
                $"still running {Durations.Format(ProcessTree.KillBound)} after SIGKILL (stuck in the kernel?): pid {string.Join(", ", left)}");
        }
    }

    private static (Process Process, int Pid) StartDirectly(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        try
        {
            var process = Process.Start(start) ?? throw new CliException(ExitCodes.CannotExecute, "cannot-run", $"cannot run {command[0]}");
            return (process, process.Id);
        }
        catch (Win32Exception ex)
        {
            throw CannotRun(command, ex.NativeErrorCode, ex.Message);
        }
    }

    /// <summary>Starts <see cref="CommandGuard"/> with the command; returns it and the command's pid once the guard has started it.</summary>
    private static async Task<(Process Guard, int Pid)> StartGuardedAsync(
        string[] self, IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, IReadOnlyList<SafeFileHandle> lockFiles)
    {
        // Two pipes: the lease's variables to the guard (for the command only: the guard itself runs in this
        // process's environment, and the token stays out of its command line), and its report back.
        using var variables = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
        using var status = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
        // Inheritable makes both ends so; only the guard's ends are meant for it.
        Posix.SetCloseOnExec(variables.SafePipeHandle.DangerousGetHandle(), true);
        Posix.SetCloseOnExec(status.SafePipeHandle.DangerousGetHandle(), true);
        var fds = lockFiles.Select(f => f.DangerousGetHandle()).ToList();
        var start = new ProcessStartInfo(self[0]) { UseShellExecute = false };
        var arguments = CommandGuard.Arguments(variables.GetClientHandleAsString(), status.GetClientHandleAsString(), fds, command);
        foreach (var argument in self.Skip(1).Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        Process guard;
        // Nothing else starts processes meanwhile, so nothing else inherits the descriptors opened up here.
        fds.ForEach(fd => Posix.SetCloseOnExec(fd, false));
        try
        {
            guard = Process.Start(start) ?? throw new Win32Exception(8, "not started");
        }
        catch (Win32Exception ex)
        {
            throw new CliException(ExitCodes.CannotExecute, "cannot-run", $"cannot start leasehold's guard for {command[0]} ({self[0]}): {ex.Message}");
        }
        finally
        {
            fds.ForEach(fd => Posix.SetCloseOnExec(fd, true));
            variables.DisposeLocalCopyOfClientHandle();
            status.DisposeLocalCopyOfClientHandle();
        }
        try
        {
            try
            {
                await variables.WriteAsync(CommandGuard.EncodeEnvironment(environment));
                variables.Close();
            }
            catch (IOException)
            {
                // The guard is gone already (EPIPE): its report, or the lack of one, says more.
            }
            string? line;
            using (var reader = new StreamReader(status))
            {
                line = await reader.ReadLineAsync();
            }
            if (line is null)
            {
                await guard.WaitForExitAsync();
                throw new CliException(ExitCodes.CannotExecute, "cannot-run", $"leasehold's guard for {command[0]} ended (exit {guard.ExitCode}) before starting it");
            }
            var (pid, errno, error) = CommandGuard.ParseStatus(line);
            if (errno is { } number)
            {
                await guard.WaitForExitAsync();
                throw CannotRun(command, number, error!);
            }
            return (guard, pid);
        }
        catch
        {
            if (!guard.HasExited)
            {
                guard.Kill(entireProcessTree: true);
            }
            guard.Dispose();
            throw;
        }
    }

    /// <summary>ENOENT: not found (127, as a shell says); anything else, such as EACCES: found but not runnable (126).</summary>
    private static CliException CannotRun(IReadOnlyList<string> command, int errno, string message)
        => new(errno == 2 ? ExitCodes.CommandNotFound : ExitCodes.CannotExecute, "cannot-run", $"cannot run {command[0]}: {message}");
}
