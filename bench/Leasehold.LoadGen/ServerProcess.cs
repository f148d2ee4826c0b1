using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Leasehold.LoadGen;

/// <summary>
/// A Leasehold server started for one run: a free loopback port, a temporary data directory, output
/// kept in a log file, stopped (and its directory removed) on dispose.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly DirectoryInfo _dir;
    private bool _logClosed;

    private ServerProcess(Process process, StreamWriter log, DirectoryInfo dir, Uri url)
    {
        _process = process;
        _log = log;
        _dir = dir;
        Url = url;
    }

    public Uri Url { get; }

    public string LogPath => Path.Combine(_dir.FullName, "server.log");

    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static async Task<ServerProcess> StartAsync(string serverDll, IEnumerable<string> extraArgs, CancellationToken cancel)
    {
        if (!File.Exists(serverDll))
        {
            throw new FileNotFoundException($"server dll not found: {serverDll}", serverDll);
        }
        var port = FreeLoopbackPort();
        var url = new Uri($"http://127.0.0.1:{port}/");
        var dir = Directory.CreateTempSubdirectory("leasehold-load-");
        var log = new StreamWriter(Path.Combine(dir.FullName, "server.log")) { AutoFlush = true };
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.GetFullPath(serverDll), "--urls", $"http://127.0.0.1:{port}", "--data-dir", Path.Combine(dir.FullName, "data") },
        };
        foreach (var arg in extraArgs)
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        var server = new ServerProcess(process, log, dir, url);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitHealthyAsync(cancel);
            return server;
        }
        catch
        {
            server.Dispose(keepLog: true);
            throw;
        }
    }

    private async Task WaitHealthyAsync(CancellationToken cancel)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(2) };
        var client = new LeaseClient(http);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with code {_process.ExitCode}; see {LogPath}");
            }
            try
            {
                if (await client.IsHealthyAsync(cancel))
                {
                    return;
                }
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
                // one probe timed out; try again until the deadline
            }
            await Task.Delay(100, cancel);
        }
        throw new TimeoutException($"the server did not answer /healthz within {StartTimeout.TotalSeconds} s; see {LogPath}");
    }

    private static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
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

    public void Dispose() => Dispose(keepLog: false);

    private void Dispose(bool keepLog)
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
        if (keepLog)
        {
            Console.Error.WriteLine($"server log kept in {LogPath}");
            return;
        }
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"could not remove {_dir.FullName}: {e.Message}");
        }
    }
}
