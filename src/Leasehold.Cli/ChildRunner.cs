using System.ComponentModel;
using System.Diagnostics;

namespace Leasehold.Cli;

/// <summary>
/// Runs the command under the lease: the tool's own standard streams, its environment plus the lease's
/// variables. Waits for it to exit, or for the lease to be lost: then the child gets SIGTERM, and SIGKILL
/// (its whole tree) if it has not exited after <see cref="Grace"/>.
/// </summary>
internal static class ChildRunner
{
    /// <summary>How long a child told to stop (lease lost) may take before it is killed.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    /// <summary>The child's exit code (128+N when a signal ended it), or <see cref="ExitCodes.Lost"/>.</summary>
    /// <param name="command">The program and its arguments (no shell).</param>
    /// <param name="environment">Variables added to this process's environment for the child.</param>
    /// <param name="signals">Where SIGINT/SIGTERM are forwarded from while the child runs.</param>
    /// <param name="lost">Fires when the child must stop: the lease is lost, or the local --ttl ran out.</param>
    /// <param name="lostMessage">What to say when <paramref name="lost"/> fires.</param>
    /// <param name="json">Say it as JSON.</param>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, SignalForwarder signals,
        CancellationToken lost, Func<string> lostMessage, bool json)
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
        Process child;
        try
        {
            child = Process.Start(start) ?? throw new CliException(ExitCodes.CannotExecute, "cannot-run", $"cannot run {command[0]}");
        }
        catch (Win32Exception ex)
        {
            // ENOENT: not found (127, as a shell says); anything else, such as EACCES: found but not runnable (126).
            var notFound = ex.NativeErrorCode == 2;
            throw new CliException(notFound ? ExitCodes.CommandNotFound : ExitCodes.CannotExecute, "cannot-run", $"cannot run {command[0]}: {ex.Message}");
        }
        using (child)
        {
            signals.Attach(child);
            try
            {
                var exited = child.WaitForExitAsync(CancellationToken.None);
                var stop = Task.Delay(Timeout.InfiniteTimeSpan, lost);
                if (await Task.WhenAny(exited, stop) == exited)
                {
                    await exited;
                    return child.ExitCode;
                }
                Failures.Report(json, ExitCodes.Lost, "lost", lostMessage() + $"; sending SIGTERM to {command[0]} (pid {child.Id})");
                Posix.Kill(child.Id, Posix.SIGTERM);
                if (await Task.WhenAny(exited, Task.Delay(Grace, CancellationToken.None)) != exited)
                {
                    child.Kill(entireProcessTree: true);
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
}
