using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;

namespace Leasehold.Cli;

/// <summary>
/// The hidden step between <c>run</c> and its command on Linux, so that nothing of the command outlives
/// <c>run</c>, even a <c>run</c> killed with SIGKILL (which no code of its own can act on):
/// <c>leasehold __guard PARENT VARIABLES-FD STATUS-FD LOCK-FDS COMMAND ARGS...</c>. The guard
/// <list type="bullet">
/// <item>asks for SIGTERM when its parent dies (<c>PR_SET_PDEATHSIG</c>), checks that the parent is still
/// <c>PARENT</c> (it may have died already), and keeps checking four times a second;</item>
/// <item>becomes a child subreaper, so the command's orphans, daemonized ones included, become its
/// children rather than init's;</item>
/// <item>reads the variables to add to the command's environment from the pipe <c>VARIABLES-FD</c>
/// (<c>NAME=VALUE</c>, each ended by NUL; the guard's own environment stays <c>run</c>'s), starts the
/// command, reports its pid (or why it could not start) on the pipe <c>STATUS-FD</c>, and exits with
/// the command's exit code when it exits;</item>
/// <item>when its parent is gone, SIGKILLs its whole tree (<see cref="ProcessTree.KillAsync"/>) at once,
/// and only then exits, closing the lock files of <c>run --local</c> it holds (<c>LOCK-FDS</c>, comma
/// separated, or <c>-</c>), so that such a lock is free only once none of the tree runs.</item>
/// </list>
/// It takes no part in signals otherwise: <c>run</c> passes SIGINT and SIGTERM to the command itself,
/// and the guard, in the job's process group like the command, ignores the job's SIGINT, SIGTERM,
/// SIGHUP, SIGQUIT and SIGTSTP (each only makes it look at its parent again).
/// </summary>
internal static class CommandGuard
{
    public const string Verb = "__guard";

    private static readonly TimeSpan CheckEvery = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ReapEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How to start this program again: the executable (an app host, the tool's shim, a single file), or
    /// under <c>dotnet leasehold.dll</c> the host and the dll. Null when that cannot be told.
    /// </summary>
    public static string[]? SelfCommand()
    {
        if (Environment.ProcessPath is not { Length: > 0 } path)
        {
            return null;
        }
        if (!Path.GetFileNameWithoutExtension(path).Equals("dotnet", StringComparison.Ordinal))
        {
            return [path];
        }
        var dll = typeof(CommandGuard).Assembly.Location;
        return dll.Length > 0 ? [path, dll] : null;
    }

    /// <summary>The command line that starts the guard for <paramref name="command"/>.</summary>
    public static IEnumerable<string> Arguments(string variablesHandle, string statusHandle, IReadOnlyList<nint> lockFds, IReadOnlyList<string> command)
        => [Verb, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), variablesHandle, statusHandle,
            lockFds.Count == 0 ? "-" : string.Join(',', lockFds.Select(fd => fd.ToString(CultureInfo.InvariantCulture))), .. command];

    /// <summary>The variables as the guard reads them: <c>NAME=VALUE</c>, each ended by NUL (which neither can hold).</summary>
    public static byte[] EncodeEnvironment(IReadOnlyDictionary<string, string> environment)
        => Encoding.UTF8.GetBytes(string.Concat(environment.Select(v => $"{v.Key}={v.Value}\0")));

    private static List<(string Name, string Value)> DecodeEnvironment(byte[] bytes)
        => [.. Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .Select(pair => (pair[0], pair[1]))];

    /// <summary>What the guard reported: the command's pid, or why it could not be started.</summary>
    public static (int Pid, int? Errno, string? Error) ParseStatus(string line)
    {
        var parts = line.Split(' ', 3);
        return parts switch
        {
            ["started", var pid] => (int.Parse(pid, CultureInfo.InvariantCulture), null, null),
            ["failed", var errno, var message] => (0, int.Parse(errno, CultureInfo.InvariantCulture), message),
            _ => throw new FormatException($"unexpected report from the guard: {line}"),
        };
    }

    /// <summary>The guard itself (<paramref name="args"/> starts with <see cref="Verb"/>).</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (!OperatingSystem.IsLinux() || args.Length < 6
            || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent)
            || !int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var variablesFd)
            || !int.TryParse(args[3], NumberStyles.None, CultureInfo.InvariantCulture, out var statusFd)
            || ParseFds(args[4]) is not { } lockFds)
        {
            await Console.Error.WriteLineAsync($"leasehold: {Verb} is a step of 'leasehold run', not a command");
            return ExitCodes.Usage;
        }
        // The pipes and the lock files are the guard's alone: the command must not inherit them.
        Posix.SetCloseOnExec(variablesFd, true);
        Posix.SetCloseOnExec(statusFd, true);
        foreach (var fd in lockFds)
        {
            Posix.SetCloseOnExec(fd, true);
        }
        var orphaned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Look()
        {
            if (Posix.ParentPid() != parent)
            {
                orphaned.TrySetResult();
            }
        }
        var registrations = new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP, PosixSignal.SIGQUIT, PosixSignal.SIGTSTP }
            .Select(signal => PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                Look();
            }))
            .ToList();
        try
        {
            // Also sent when the thread of the parent that started the guard ends while the parent lives
            // on: hence the look at the parent rather than taking the signal's word.
            Posix.SetParentDeathSignal(Posix.SIGTERM);
            Posix.BecomeSubreaper();
            var start = new ProcessStartInfo(args[5]) { UseShellExecute = false };
            foreach (var argument in args.Skip(6))
            {
                start.ArgumentList.Add(argument);
            }
            using (var variables = new AnonymousPipeClientStream(PipeDirection.In, args[2]))
            using (var buffer = new MemoryStream())
            {
                await variables.CopyToAsync(buffer);
                foreach (var (name, value) in DecodeEnvironment(buffer.ToArray()))
                {
                    start.Environment[name] = value;
                }
            }
            if (Posix.ParentPid() != parent)
            {
                return ExitCodes.Signal(Posix.SIGKILL); // run died before the guard could watch it: run nothing.
            }
            Process child;
            using (var status = new AnonymousPipeClientStream(PipeDirection.Out, args[3]))
            {
                try
                {
                    child = Process.Start(start) ?? throw new Win32Exception(8, "not started"); // ENOEXEC
                }
                catch (Win32Exception ex)
                {
                    Report(status, $"failed {ex.NativeErrorCode} {ex.Message}");
                    return ex.NativeErrorCode == 2 ? ExitCodes.CommandNotFound : ExitCodes.CannotExecute;
                }
                Report(status, $"started {child.Id}");
            }
            using (child)
            {
                return await WatchAsync(child, orphaned.Task, Look);
            }
        }
        finally
        {
            registrations.ForEach(r => r.Dispose());
        }
    }

    private static async Task<int> WatchAsync(Process child, Task orphaned, Action look)
    {
        var exited = child.WaitForExitAsync(CancellationToken.None);
        var sinceReap = Stopwatch.StartNew();
        while (true)
        {
            if (await Task.WhenAny(exited, orphaned, Task.Delay(CheckEvery)) == exited)
            {
                await exited;
                return child.ExitCode;
            }
            look();
            if (orphaned.IsCompleted)
            {
                // run is gone: SIGKILLed, crashed. Its lease ends soon, or its local lock ended with it but
                // for the guard's copies of the lock files; nothing of the command may run on.
                await ProcessTree.KillAsync(spare: -1, managed: child.Id);
                return ExitCodes.Signal(Posix.SIGKILL);
            }
            if (sinceReap.Elapsed >= ReapEvery)
            {
                // Orphans that ended are the guard's zombies now; the command itself is its Process's to reap.
                foreach (var pid in ProcessTree.Children())
                {
                    if (pid != child.Id)
                    {
                        Posix.Reap(pid);
                    }
                }
                sinceReap.Restart();
            }
        }
    }

    private static void Report(Stream status, string line)
    {
        try
        {
            status.Write(Encoding.UTF8.GetBytes(line.ReplaceLineEndings(" ") + "\n"));
            status.Flush();
        }
        catch (IOException)
        {
            // run is gone (EPIPE): the watch finds that out and acts on it.
        }
    }

    private static List<nint>? ParseFds(string text)
    {
        if (text == "-")
        {
            return [];
        }
        var fds = new List<nint>();
        foreach (var part in text.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var fd))
            {
                return null;
            }
            fds.Add(fd);
        }
        return fds;
    }
}
