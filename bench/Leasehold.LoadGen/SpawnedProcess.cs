using System.Diagnostics;

namespace Leasehold.LoadGen;

/// <summary>One child process started for a run: its output goes to a log file; killed on dispose.</summary>
internal sealed class SpawnedProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private bool _logClosed;

    private SpawnedProcess(Process process, StreamWriter log, string logPath)
    {
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="args"/>, its output to <paramref name="logPath"/>, and
    /// <paramref name="environment"/>'s NAME=VALUE pairs set for it on top of this process's environment.</summary>
    public static SpawnedProcess Start(string fileName, IEnumerable<string> args, string logPath, IReadOnlyList<string>? environment = null)
    {
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var pair in environment ?? [])
        {
            var equals = pair.IndexOf('=');
            info.Environment[pair[..equals]] = pair[(equals + 1)..];
        }
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        }
        catch
        {
            log.Dispose();
            throw;
        }
        var spawned = new SpawnedProcess(process, log, logPath);
        process.OutputDataReceived += (_, e) => spawned.Append(e.Data);
        process.ErrorDataReceived += (_, e) => spawned.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return spawned;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            if (!_logClosed)
            {
                _log.WriteLine(line);
            }
        }
    }

    /// <remarks>
    /// Waits without blocking a thread: the load generator's continuations run on the runtime's socket event threads,
    /// and the end of the child's redirected output is itself delivered by one of them, so a blocking wait could wait
    /// for the very thread it holds.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        // Also when it had exited on its own (a crash, whose log is kept): its last lines may still be in the pipe.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(patience.Token); // also waits for the redirected output to drain
        }
        catch (OperationCanceledException)
        {
            // Not gone (or its output not drained) within the patience: leave it.
        }
        _process.Dispose();
        lock (_log)
        {
            _logClosed = true;
            _log.Dispose();
        }
    }
}
