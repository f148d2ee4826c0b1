using Microsoft.Extensions.Configuration;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Leasehold.Server.Tests;

/// <summary>
/// Where the BUILT server finds its settings, what it says about them, and what it logs by default. Every server
/// here runs as a process from a temporary working directory that is not the binary's folder.
/// </summary>
public sealed class SettingsTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly string _root = Directory.CreateTempSubdirectory("leasehold-settings-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string WorkDir()
    {
        var dir = Path.Combine(_root, "work");
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public async Task The_settings_file_beside_the_binary_is_read_from_another_working_directory()
    {
        // A private copy of the built server, so the shared build output is left alone.
        var bin = Path.Combine(_root, "bin");
        Directory.CreateDirectory(bin);
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            File.Copy(file, Path.Combine(bin, Path.GetFileName(file)));
        }
        File.WriteAllText(Path.Combine(bin, "appsettings.json"), """{"Leasehold":{"Durability":"memory","Pools":[{"Path":"/ids","Ids":"a,b"}]}}""");

        await using var server = await Server.StartAsync(Path.Combine(bin, "Leasehold.Server.dll"), WorkDir(), []);
        Assert.Equal("memory", await DurabilityAsync(server));
        var pool = await server.Http.GetAsync(new Uri("/v1/resources/ids/a", UriKind.Relative));
        Assert.True(pool.StatusCode == HttpStatusCode.OK, $"the pool from the file beside the binary is missing: {(int)pool.StatusCode}\n{server.Log}");
        Assert.False(Directory.Exists(Path.Combine(WorkDir(), "data")), "a memory server made a data directory");
    }

    [Fact]
    public async Task The_config_option_reads_a_file_and_a_missing_one_refuses_to_start()
    {
        var work = WorkDir();
        File.WriteAllText(Path.Combine(work, "lease.json"), """{"Leasehold":{"Durability":"memory"}}""");

        await using (var server = await Server.StartAsync(Server.BuiltDll, work, ["--config", "lease.json"]))
        {
            Assert.Equal("memory", await DurabilityAsync(server));
            Assert.Contains($"{Path.Combine(work, "lease.json")}; not at their default: Leasehold:Durability=memory", server.Log, StringComparison.Ordinal);
        }

        var (code, stdout, stderr) = await Server.RunToExitAsync(Server.BuiltDll, work, ["--config", "missing.json", "--urls", "http://127.0.0.1:0"]);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("leasehold: cannot start: settings file ", line, StringComparison.Ordinal);
        Assert.Contains("missing.json", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misspelt_key_is_warned_about_and_every_documented_key_is_not()
    {
        var work = WorkDir();
        using var tls = new Tls.TlsFiles();
        // A value for every setting the server documents, so a key the check does not know fails this test.
        var values = new Dictionary<string, string>
        {
            ["Leasehold:DataDir"] = Path.Combine(work, "data"),
            ["Leasehold:MaxRequestBytes"] = "70000",
            ["Leasehold:Durability"] = "interval",
            ["Leasehold:FsyncIntervalMs"] = "50",
            ["Leasehold:MaxConnections"] = "100",
            ["Leasehold:KeepAliveSeconds"] = "60",
            ["Leasehold:InlineScheduling"] = "false",
            ["Leasehold:RequestHeadersSeconds"] = "20",
            ["Leasehold:HistorySize"] = "100",
            ["Leasehold:HistoryBytes"] = "1048576",
            ["Leasehold:SnapshotEvery"] = "1000",
            ["Leasehold:AcceptDataLoss"] = "false",
            ["Leasehold:SessionGraceSeconds"] = "5",
            ["Leasehold:Events:History"] = "500",
            ["Leasehold:Events:HistoryBytes"] = "1048576",
            ["Leasehold:Events:Buffer"] = "64",
            ["Leasehold:Events:MaxStreams"] = "10",
            ["Leasehold:Events:KeepAliveSeconds"] = "5",
            ["Leasehold:Events:SnapshotLimit"] = "100",
            ["Leasehold:Pools:0:Path"] = "/ids",
            ["Leasehold:Pools:0:Ids"] = "a,b",
            ["Leasehold:Pools:1:Path"] = "/lab",
            ["Leasehold:Pools:1:File"] = Path.Combine(work, "resources.json"),
            ["Leasehold:IdServer:Pool"] = "/ids",
            ["Leasehold:IdServer:Port"] = "0",
            ["Leasehold:IdServer:Host"] = "127.0.0.1",
            ["Leasehold:IdServer:MaxConnections"] = "10",
            ["Leasehold:IdServer:IdleSeconds"] = "60",
            ["Leasehold:Locker:Enabled"] = "true",
            ["Leasehold:Lockd:Enabled"] = "true",
            ["Leasehold:Lockd:Prefix"] = "/xmlrpc",
            ["Leasehold:Dashboard:Enabled"] = "true",
            ["Leasehold:Locker:Principal"] = "ci",
            ["Leasehold:Lockd:Principal"] = "ci",
            ["Leasehold:IdServer:Principal"] = "ci",
            ["Leasehold:Security:Open"] = "false",
            ["Leasehold:Security:KeysFile"] = Path.Combine(work, "keys.json"),
            ["Leasehold:Security:ApiKeys:k1:Hash"] = Leasehold.Server.Security.ApiKeys.Hash(Leasehold.Server.Security.ApiKeys.Create("k1")),
            ["Leasehold:Security:ApiKeys:k1:Principal"] = "ci",
            ["Leasehold:Security:ApiKeys:k1:Roles:0"] = "builders",
            ["Leasehold:Security:ApiKeys:k1:Expires"] = "2099-01-01T00:00:00Z",
            ["Leasehold:Security:ApiKeys:k1:Created"] = "2026-01-01T00:00:00Z",
            ["Leasehold:Security:Jwt:SigningKeyFile"] = Path.Combine(work, "jwt.pem"),
            ["Leasehold:Security:Jwt:Audience"] = "leasehold",
            ["Leasehold:Security:Jwt:Issuer"] = "https://id.example",
            ["Leasehold:Security:Jwt:NameClaim"] = "sub",
            ["Leasehold:Security:Jwt:RoleClaim"] = "roles",
            ["Leasehold:Security:Jwt:AllowHttpAuthority"] = "false",
            ["Leasehold:Security:Principals:ci:Roles:0"] = "builders",
            ["Leasehold:Security:Rules:0:Who:0"] = "ci",
            ["Leasehold:Security:Rules:0:Prefix"] = "/**",
            ["Leasehold:Security:Rules:0:Rights:0"] = "read",
            ["Leasehold:Limits:MaxLeases"] = "1000",
            ["Leasehold:Limits:MaxLeasesPerPrincipal"] = "100",
            ["Leasehold:Limits:MaxSessions"] = "1000",
            ["Leasehold:Limits:MaxSessionsPerPrincipal"] = "100",
            ["Leasehold:Limits:MaxWaiters"] = "1000",
            ["Leasehold:Limits:MaxWaitersPerPrincipal"] = "100",
            ["Leasehold:Limits:MaxPendingPerPrincipal"] = "100",
            ["Leasehold:Limits:MaxPathNodes"] = "100000",
            ["Leasehold:Limits:MaxPathCharsPerLease"] = "1000",
            ["Leasehold:Limits:RequestsPerSecondPerPrincipal"] = "100",
            ["Leasehold:Tls:CertFile"] = tls.Server().Cert,
            ["Leasehold:Tls:KeyFile"] = Path.Combine(tls.Directory, "server.key"),
            ["Leasehold:Tls:ClientCaFile"] = tls.CaFile,
            ["Leasehold:Tls:ClientRevocation"] = "offline",
            ["Leasehold:Native:Enabled"] = "true",
            ["Leasehold:Native:Port"] = "0",
            ["Leasehold:Native:MaxFrameBytes"] = "65536",
            ["Leasehold:Native:MaxInFlight"] = "64",
            ["Leasehold:Native:HandshakeSeconds"] = "5",
        };
        // Jwt:Authority is the alternative to Jwt:SigningKeyFile (both at once is refused at start-up); the rest
        // of this table shows the check knows its key, as it knows every key with the same generalization.
        values["Leasehold:Security:Jwt:Authority"] = "";
        var documented = ServerSettings.All.Select(s => Concrete(s.Key, "0")).ToHashSet();
        documented.UnionWith(ServerSettings.All.Select(s => Concrete(s.Key, "1")));
        // A cluster's settings make a cluster node, not this single server: The_cluster_settings_are_known checks them.
        Assert.Empty(documented.Where(k => !k.Contains(":Pools:", StringComparison.Ordinal) && !k.EndsWith(":1", StringComparison.Ordinal)
            && !k.Contains(":Rules:1:", StringComparison.Ordinal) && !k.StartsWith("Leasehold:Cluster:", StringComparison.Ordinal)).Except(values.Keys));
        File.WriteAllText(Path.Combine(work, "keys.json"), "{}");
        using (var rsa = System.Security.Cryptography.RSA.Create(2048))
        {
            File.WriteAllText(Path.Combine(work, "jwt.pem"), rsa.ExportSubjectPublicKeyInfoPem());
        }
        File.WriteAllText(Path.Combine(work, "resources.json"), """[{"id":"r1","hostname":"h1","online":true}]""");

        var args = values.Select(v => $"--{v.Key}={v.Value}").Append("--Leasehold:SnapshotEvry=10").ToArray();
        await using var server = await Server.StartAsync(Server.BuiltDll, work, args);
        await server.WaitForLogAsync("Unknown setting");
        var warnings = server.Log.Split('\n').Where(l => l.Contains("Unknown setting", StringComparison.Ordinal)).ToList();
        var warning = Assert.Single(warnings);
        Assert.Contains("Leasehold:SnapshotEvry is ignored (did you mean Leasehold:SnapshotEvery?)", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_default_log_has_no_line_per_request()
    {
        var work = WorkDir();
        await using (var quiet = await Server.StartAsync(Server.BuiltDll, work, ["--Leasehold:Durability=memory"]))
        {
            await MakeRequestsAsync(quiet);
            var log = await quiet.StopAsync();
            Assert.Contains("Leasehold listening on", log, StringComparison.Ordinal);
            Assert.DoesNotContain("Request starting", log, StringComparison.Ordinal);
            Assert.DoesNotContain("Request finished", log, StringComparison.Ordinal);
            Assert.DoesNotContain("Microsoft.AspNetCore", log, StringComparison.Ordinal);
        }

        // The operator can still have them: the test above would see them if they were printed.
        await using var verbose = await Server.StartAsync(Server.BuiltDll, work,
            ["--Leasehold:Durability=memory", "--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Information"]);
        await MakeRequestsAsync(verbose);
        Assert.Contains("Request finished", await verbose.StopAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_operations_doc_lists_every_setting_with_its_default()
    {
        // The source tree holding this build: the docs are checked against the server's own table.
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Leasehold.slnx")))
        {
            dir = dir.Parent;
        }
        Assert.NotNull(dir);
        var rows = File.ReadAllLines(Path.Combine(dir.FullName, "docs", "operations.md"))
            .Where(l => l.StartsWith("| `Leasehold:", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries))
            .ToList();
        foreach (var setting in ServerSettings.All)
        {
            var row = rows.FirstOrDefault(r => r[1] == $"`{setting.Key}`"
                || (setting.Key.Contains(":N:", StringComparison.Ordinal)
                    && r[1].StartsWith($"`{setting.Key[..(setting.Key.LastIndexOf(':') + 1)]}", StringComparison.Ordinal)
                    && r[1].Contains($":{setting.Key[(setting.Key.LastIndexOf(':') + 1)..]}`", StringComparison.Ordinal)));
            Assert.True(row is not null, $"docs/operations.md has no row for {setting.Key}");
            Assert.Equal(setting.Default, row[4].Trim('`'));
        }
    }

    /// <summary>A documented key with its placeholders filled: N and M are indexes, ID a key id, NAME a principal.</summary>
    [Fact]
    public void The_cluster_settings_are_known_and_a_misspelt_one_is_not()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Leasehold:Cluster:Node"] = "127.0.0.1:7001",
            ["Leasehold:Cluster:Members:0"] = "127.0.0.1:7001",
            ["Leasehold:Cluster:Members:1"] = "127.0.0.1:7002",
            ["Leasehold:Cluster:PublicUrl"] = "http://127.0.0.1:8101",
            ["Leasehold:Cluster:ElectionTimeoutMs"] = "400",
            ["Leasehold:Cluster:RequestTimeoutMs"] = "1000",
            ["Leasehold:Cluster:ColdStart"] = "false",
            ["Leasehold:Cluster:Member:0"] = "127.0.0.1:7001",
        }).Build();

        var unknown = ServerSettings.FindUnknown(configuration);

        Assert.Equal(["Leasehold:Cluster:Member:0"], unknown.Select(u => u.Key));
    }

    private static string Concrete(string key, string index) => System.Text.RegularExpressions.Regex.Replace(
        key.Replace(":N:", $":{index}:", StringComparison.Ordinal).Replace(":ID:", ":k1:", StringComparison.Ordinal).Replace(":NAME:", ":ci:", StringComparison.Ordinal),
        ":M$", $":{index}");

    private static async Task MakeRequestsAsync(Server server)
    {
        for (var i = 0; i < 3; i++)
        {
            using var created = await server.Http.PostAsync(new Uri("/v1/leases", UriKind.Relative), new StringContent($$"""{"path":"/r{{i}}"}"""));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            using var missing = await server.Http.GetAsync(new Uri("/no/such/route", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }
    }

    private async Task<string> DurabilityAsync(Server server)
    {
        var stats = await server.Http.GetStringAsync(new Uri("/v1/stats", UriKind.Relative));
        output.WriteLine(stats);
        using var json = JsonDocument.Parse(stats);
        return json.RootElement.GetProperty("durability").GetString()!;
    }

    /// <summary>One server process on a free port of 127.0.0.1, started from <c>workDir</c>.</summary>
    private sealed class Server : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();

        private Server(Process process, Uri address)
        {
            _process = process;
            Http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = address, Timeout = Bound };
        }

        public static string BuiltDll => Path.Combine(AppContext.BaseDirectory, "Leasehold.Server.dll");

        public HttpClient Http { get; }

        public string Log
        {
            get
            {
                lock (_log)
                {
                    return _log.ToString();
                }
            }
        }

        public static async Task<Server> StartAsync(string dll, string workDir, string[] args)
        {
            var port = FreePorts.Next();
            var process = new Process { StartInfo = Info(dll, workDir, ["--urls", $"http://127.0.0.1:{port}", "--Leasehold:Native:Port=0", .. args]) };
            var server = new Server(process, new Uri($"http://127.0.0.1:{port}"));
            process.OutputDataReceived += (_, e) => server.Keep(e.Data);
            process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
            Assert.True(process.Start());
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var clock = Stopwatch.StartNew();
            while (true)
            {
                Assert.False(process.HasExited, $"the server exited early\n{server.Log}");
                Assert.True(clock.Elapsed < Bound, $"no answer on /healthz within {Bound}\n{server.Log}");
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    using var response = await server.Http.GetAsync(new Uri("/healthz", UriKind.Relative), cts.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return server;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException)
                {
                    // Not answering yet.
                }
                await Task.Delay(50);
            }
        }

        public static async Task<(int Code, string Stdout, string Stderr)> RunToExitAsync(string dll, string workDir, string[] args)
        {
            using var process = Process.Start(Info(dll, workDir, args))!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(Bound);
            await process.WaitForExitAsync(cts.Token);
            return (process.ExitCode, await stdout, await stderr);
        }

        /// <summary>Waits, bounded, until a line containing <paramref name="text"/> was printed.</summary>
        public async Task WaitForLogAsync(string text)
        {
            var clock = Stopwatch.StartNew();
            while (!Log.Contains(text, StringComparison.Ordinal))
            {
                Assert.True(clock.Elapsed < Bound, $"'{text}' never appeared\n{Log}");
                await Task.Delay(20);
            }
        }

        /// <summary>SIGTERM and wait for the exit, so every line the server logged has been read.</summary>
        public async Task<string> StopAsync()
        {
            using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) } })!)
            {
                using var cts = new CancellationTokenSource(Bound);
                await kill.WaitForExitAsync(cts.Token);
            }
            using (var cts = new CancellationTokenSource(Bound))
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            return Log;
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(Bound);
                await _process.WaitForExitAsync(cts.Token);
            }
            _process.Dispose();
        }

        private void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }

        private static ProcessStartInfo Info(string dll, string workDir, string[] args)
        {
            var info = new ProcessStartInfo(DotnetHost())
            {
                WorkingDirectory = workDir,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(dll);
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }
            return info;
        }

        private static string DotnetHost()
        {
            var self = Environment.ProcessPath;
            if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                return self;
            }
            return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        }
    }
}
