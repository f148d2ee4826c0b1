using System.Diagnostics;

namespace Leasehold.LoadGen;

/// <summary>One child process started for a run: its output goes to a log file; killed on dispose.</summary>
internal sealed class SpawnedProcess : IDisposable
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

    public static SpawnedProcess Start(string fileName, IEnumerable<string> args, string logPath)
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

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            if (_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.WaitForExit(); // also waits for the redirected output to drain
            }
        }
        _process.Dispose();
        lock (_log)
        {
            _logClosed = true;
            _log.Dispose();
        }
    }
}
