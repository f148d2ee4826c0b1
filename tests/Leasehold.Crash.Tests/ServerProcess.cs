using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Leasehold.Crash.Tests;

/// <summary>
/// The real server as a child process (<c>dotnet Leasehold.Server.dll</c>) on a data directory that outlives it.
/// <see cref="KillAsync"/> is SIGKILL: no shutdown hook runs, exactly like a crash. Every start picks a fresh
/// free port on 127.0.0.1. Dispose kills whatever is still running.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private const int OutputLinesKept = 200;
    private const int BindAttempts = 3;

    private readonly string[] _extraArgs;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    public ServerProcess(string dataDir, params string[] extraArgs)
    {
        DataDir = dataDir;
        _extraArgs = extraArgs;
    }

    public string DataDir { get; }

    /// <summary>When set, the server runs under <c>ulimit -n</c> of this many descriptors (through <c>sh</c>).</summary>
    public int? DescriptorLimit { get; init; }

    /// <summary>True once the current process has exited (crashed or aborted) on its own.</summary>
    public bool HasExited => _process is { HasExited: true };

    public int Port { get; private set; }

    /// <summary>The HTTP port every start listens on (a cluster node's address must not change once it started; one taken before the first start is chosen again); null: a fresh free port each start.</summary>
    public int? FixedPort { get; set; }

    /// <summary>The running process's id (for signals), or null.</summary>
    public int? ProcessId => _process?.Id;

    public Uri BaseAddress => new($"{(Https ? "https" : "http")}://127.0.0.1:{Port}/");

    /// <summary>Serve HTTPS (the TLS settings come with the extra arguments); the tests trust whatever certificate it shows.</summary>
    public bool Https { get; init; }

    /// <summary>
    /// A handler for test requests to servers of this class: no proxy; any server certificate (the tests made it);
    /// <paramref name="client"/>'s certificate presented when given.
    /// </summary>
    public static SocketsHttpHandler Handler(System.Security.Cryptography.X509Certificates.X509Certificate2? client = null) => new()
    {
        UseProxy = false,
        SslOptions =
        {
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            ClientCertificates = client is null ? null : [client],
        },
    };

    /// <summary>
    /// The native protocol's port of the current start, chosen free like <see cref="Port"/>: left to its default (HTTP's
    /// port + 1), it could be a port the machine already uses for an outgoing connection.
    /// </summary>
    public int NativePort { get; private set; }

    /// <summary>The native port to use at every start (a cluster's nodes get theirs with their other ports); null: one chosen free at the first start and kept.</summary>
    public int? FixedNativePort { get; set; }

    /// <summary>Wall-clock time just before the current process was started (the server's Recover runs later).</summary>
    public DateTimeOffset LaunchedAt { get; private set; }

    public int Starts { get; private set; }

    /// <summary>The exit code of the last process that exited before answering /healthz.</summary>
    public int? LastExitCode { get; private set; }

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "Leasehold.Server.dll");

    /// <summary>The last lines the server processes printed (stdout and stderr), for failure messages.</summary>
    public string OutputTail => string.Join(Environment.NewLine, _output);

    public async Task StartAsync(TimeSpan deadline)
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("the server is already running");
        }
        for (var attempt = 1; ; attempt++)
        {
            var started = await TryStartAsync(deadline);
            if (started)
            {
                Starts++;
                return;
            }
            // Only a lost race for the port is retried; any other refusal to start is a finding.
            if (attempt >= BindAttempts || !OutputTail.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"the server exited before answering /healthz (start {Starts + 1}). Output:{Environment.NewLine}{OutputTail}");
            }
            if (Starts == 0)
            {
                // Never started, so nothing knows its ports yet (a cluster node publishes its own when it starts): ports
                // another test took since they were chosen are chosen again, the fixed ones too.
                FixedPort = FixedPort is null ? null : FreePort();
                FixedNativePort = FixedNativePort is null ? null : FreePort();
                NativePort = 0;
            }
            else if (FixedNativePort is null)
            {
                // The native port kept from the last start was taken while the server was down (by another test's
                // server or an outgoing connection): it cannot be kept, so one is chosen anew, as the HTTP port is.
                NativePort = 0;
            }
        }
    }

    /// <summary>Starts the server expecting it to refuse: returns its exit code; fails if it answers /healthz instead.</summary>
    public async Task<int> StartExpectingRefusalAsync(TimeSpan deadline)
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("the server is already running");
        }
        if (await TryStartAsync(deadline))
        {
            Kill();
            throw new InvalidOperationException($"the server started, but it should have refused. Output:{Environment.NewLine}{OutputTail}");
        }
        return LastExitCode!.Value;
    }

    private async Task<bool> TryStartAsync(TimeSpan deadline)
    {
        Port = FixedPort ?? FreePort();
        // Kept across restarts: a port chosen anew could be one a stopped node of the same test will bind again.
        NativePort = FixedNativePort ?? (NativePort != 0 ? NativePort : FreePort());
        // Under a descriptor limit the shell sets it and then becomes the server (exec), so the pid is the server's.
        var info = new ProcessStartInfo(DescriptorLimit is null ? DotnetHost() : "sh")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (DescriptorLimit is { } limit)
        {
            foreach (var arg in (string[])["-c", $"ulimit -n {limit} && exec \"$0\" \"$@\"", DotnetHost()])
            {
                info.ArgumentList.Add(arg);
            }
        }
        foreach (var arg in (string[])[ServerDll, "--urls", BaseAddress.GetLeftPart(UriPartial.Authority), "--data-dir", DataDir, "--Logging:LogLevel:Default=Warning",
            $"--Leasehold:Native:Port={NativePort}", .. _extraArgs])
        {
            info.ArgumentList.Add(arg);
        }
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        LaunchedAt = DateTimeOffset.UtcNow;
        process.Start();
        _process = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient(Handler()) { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                LastExitCode = process.ExitCode;
                Keep($"[exit code {process.ExitCode}]");
                process.Dispose();
                _process = null;
                return false;
            }
            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "healthz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (clock.Elapsed > deadline)
            {
                Kill();
                throw new TimeoutException($"the server did not answer /healthz within {deadline.TotalSeconds} s. Output:{Environment.NewLine}{OutputTail}");
            }
            await Task.Delay(25);
        }
    }

    /// <summary>SIGKILL (the whole tree, which is just the one process) and wait until it is gone.</summary>
    public async Task KillAsync()
    {
        var process = _process;
        if (process is null)
        {
            return;
        }
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await process.WaitForExitAsync(timeout.Token);
        process.Dispose();
        _process = null;
    }

    private void Kill()
    {
        var process = _process;
        if (process is null)
        {
            return;
        }
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(15));
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > OutputLinesKept && _output.TryDequeue(out _))
        {
        }
    }

    /// <summary>Free loopback ports, all held open at once so that no two are the same.</summary>
    internal static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }
            int[] ports = [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
            foreach (var port in ports)
            {
                HandedOut.TryAdd(port, 0);
            }
            return ports;
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    /// <summary>
    /// A free port never handed out before in this test run: one chosen again (a node's, before its first start)
    /// must not be another node's that is chosen but not bound yet.
    /// </summary>
    internal static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            try
            {
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (HandedOut.TryAdd(port, 0) || attempt >= 20)
                {
                    return port;
                }
            }
            finally
            {
                listener.Stop();
            }
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> HandedOut = new();

    /// <summary>The dotnet host running this test (the SDK sets DOTNET_HOST_PATH), else whatever <c>dotnet</c> is on PATH.</summary>
    internal static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }
        return "dotnet";
    }
}
