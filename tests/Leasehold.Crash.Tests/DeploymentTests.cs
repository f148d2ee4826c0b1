using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;

namespace Leasehold.Crash.Tests;

/// <summary>
/// The published server run the way <c>deploy/systemd/leasehold.service</c> runs it: the unit's own ExecStart=,
/// Environment=, WorkingDirectory= and UMask= lines, a clean environment, and an unprivileged user when the tests
/// run as root. Paths of the unit (<c>/opt/leasehold</c>, <c>/var/lib/leasehold</c>) are taken under a temporary
/// root, and the unit's port is swapped for a free one; everything else is the unit's.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DeploymentTests(PublishedServer published)
    : IClassFixture<PublishedServer>
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_published_server_runs_as_the_unit_says_answers_health_and_stops_cleanly_on_SIGTERM()
    {
        var unit = SystemdUnit.Read(published.UnitFile);
        var dataDir = published.Reroot("/var/lib/leasehold");
        Assert.Contains("/var/lib/leasehold", unit.ExecStart);
        // systemd's StateDirectory= makes the directory, owned by the service's user, with StateDirectoryMode=.
        Assert.Equal("leasehold", unit.Get("StateDirectory"));
        Assert.Equal("0700", unit.Get("StateDirectoryMode"));
        Directory.CreateDirectory(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            Assert.Equal(0, await PublishedServer.RunAsync(TimeSpan.FromSeconds(30), "chown", "nobody:nogroup", dataDir));
        }

        var port = ServerProcess.FreePort();
        const string UnitUrl = "http://127.0.0.1:8765";
        Assert.Contains(UnitUrl, unit.ExecStart);
        // The unit's ports moved to free ones: HTTP's, and the native protocol's (its default, HTTP's + 1, may be taken).
        var command = unit.ExecStart.Select(a => a == UnitUrl ? $"http://127.0.0.1:{port}" : published.Reroot(a)).ToList();
        command.Add($"--Leasehold:Native:Port={ServerProcess.FreePort()}");
        var umask = unit.Get("UMask") ?? "0022";

        // Run as the unit does: (setpriv to an unprivileged user), the unit's umask, then exec the server.
        var info = new ProcessStartInfo(asRoot ? "setpriv" : "sh")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = published.Reroot(unit.Get("WorkingDirectory") ?? "/"),
        };
        var argv = new List<string>();
        if (asRoot)
        {
            argv.AddRange(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "sh"]);
        }
        argv.AddRange(["-c", $"umask {umask} && exec \"$0\" \"$@\"", .. command]);
        argv.ForEach(info.ArgumentList.Add);
        // systemd starts services with a clean environment: PATH and the unit's Environment= lines. The published
        // server is framework-dependent, so it is also told where the test's .NET runtime is.
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        info.Environment["DOTNET_ROOT"] = PublishedServer.DotnetRoot;
        foreach (var (key, value) in unit.Environment)
        {
            info.Environment[key] = value;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string Output() { lock (output) { return output.ToString(); } }
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
                Timeout = TimeSpan.FromSeconds(10),
            };
            await WaitForOkAsync(http, "healthz", process, Output);
            await WaitForOkAsync(http, "readyz", process, Output);

            using var acquired = await http.PostAsJsonAsync("v1/leases", new { path = "/deploy/check", owner = "deploy-test", ttl = 60 });
            Assert.True(acquired.IsSuccessStatusCode, $"acquire answered {acquired.StatusCode}: {await acquired.Content.ReadAsStringAsync()}");
            using var lease = JsonDocument.Parse(await acquired.Content.ReadAsStringAsync());
            var id = lease.RootElement.GetProperty("id").GetInt64();
            var token = lease.RootElement.GetProperty("token").GetString()!;
            using var release = new HttpRequestMessage(HttpMethod.Delete, $"v1/leases/{id}");
            release.Headers.Add("Leasehold-Token", token);
            using var released = await http.SendAsync(release);
            Assert.True(released.IsSuccessStatusCode, $"release answered {released.StatusCode}");

            // KillSignal=SIGTERM, within TimeoutStopSec=.
            Assert.Equal("SIGTERM", unit.Get("KillSignal"));
            var stopWithin = TimeSpan.FromSeconds(int.Parse(unit.Get("TimeoutStopSec")!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(0, await PublishedServer.RunAsync(TimeSpan.FromSeconds(30), "kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            using (var timeout = new CancellationTokenSource(stopWithin))
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}. Output:{Environment.NewLine}{Output()}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromSeconds(15));
            }
        }

        // The unit's Environment= chose the systemd log format: single lines with a syslog priority prefix.
        Assert.Contains("<6>", Output(), StringComparison.Ordinal);
        // The data directory holds the log and manifest, private to the service's user.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDir));
        var files = Directory.GetFiles(dataDir);
        Assert.Contains(files, f => Path.GetFileName(f).StartsWith("wal-", StringComparison.Ordinal));
        Assert.All(files, f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
        if (asRoot)
        {
            // Written by the unprivileged user, not by root.
            var (code, notOwned) = await PublishedServer.RunCapturedAsync(TimeSpan.FromSeconds(30), "find", dataDir, "!", "-user", "nobody");
            Assert.True(code == 0 && notOwned.Trim().Length == 0, $"files not owned by nobody: {notOwned}");
        }
    }

    [Fact]
    public async Task Systemd_analyze_verify_accepts_the_unit()
    {
        // Verify runs against a root that holds the unit, the published executable at the unit's path and the
        // system's own units (for the targets it names), and prints nothing when the unit is sound.
        var (code, output) = await PublishedServer.RunCapturedAsync(
            TimeSpan.FromSeconds(60), "systemd-analyze", "verify", $"--root={published.Root}", "leasehold.service");
        Assert.True(code == 0 && output.Trim().Length == 0, $"systemd-analyze verify exited {code}:{Environment.NewLine}{output}");
    }

    private static async Task WaitForOkAsync(HttpClient http, string path, Process process, Func<string> output)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(process.HasExited, $"the server exited before /{path} answered. Output:{Environment.NewLine}{output()}");
            try
            {
                using var response = await http.GetAsync(path);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            Assert.True(clock.Elapsed < StartDeadline, $"/{path} did not answer 200 within {StartDeadline.TotalSeconds} s. Output:{Environment.NewLine}{output()}");
            await Task.Delay(50);
        }
    }
}

/// <summary>The [Service] settings of a unit file, one setting per line (the project's unit keeps them so).</summary>
internal sealed class SystemdUnit
{
    private readonly List<KeyValuePair<string, string>> _service = [];

    public IReadOnlyList<string> ExecStart => Get("ExecStart")!.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public IEnumerable<(string Key, string Value)> Environment => _service
        .Where(s => s.Key == "Environment")
        .Select(s => s.Value.Split('=', 2))
        .Select(kv => (kv[0], kv[1]));

    public string? Get(string key) => _service.LastOrDefault(s => s.Key == key).Value;

    public static SystemdUnit Read(string path)
    {
        var unit = new SystemdUnit();
        var section = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }
            if (line[0] == '[')
            {
                section = line;
                continue;
            }
            // The test reads no quoting, escapes, specifiers or continuations: a unit that needs them fails here.
            Assert.DoesNotMatch("[\"'\\\\%]", line);
            if (section == "[Service]")
            {
                var kv = line.Split('=', 2);
                unit._service.Add(new(kv[0], kv[1]));
            }
        }
        return unit;
    }
}

/// <summary>
/// <c>dotnet publish</c> of the server, once for the class, into <c>opt/leasehold</c> of a temporary root that also
/// holds the unit at <c>etc/systemd/system</c> and a copy of the system's units for <c>systemd-analyze</c>.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PublishedServer : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("leasehold-deploy-").FullName;

    public string UnitFile => Path.Combine(Root, "etc/systemd/system/leasehold.service");

    public static string DotnetRoot =>
        Path.GetDirectoryName(new FileInfo(ServerProcess.DotnetHost()).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? ServerProcess.DotnetHost())!;

    public string Reroot(string path) =>
        path.StartsWith("/opt/leasehold", StringComparison.Ordinal) || path.StartsWith("/var/lib/leasehold", StringComparison.Ordinal)
            ? Root + path
            : path;

    public async Task InitializeAsync()
    {
        // The unprivileged user must reach the published files through the root.
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
        var repo = RepositoryRoot();
        Directory.CreateDirectory(Path.GetDirectoryName(UnitFile)!);
        File.Copy(Path.Combine(repo, "deploy/systemd/leasehold.service"), UnitFile);
        const string systemUnits = "/usr/lib/systemd/system";
        if (Directory.Exists(systemUnits))
        {
            var copy = Path.Combine(Root, "usr/lib/systemd/system");
            Directory.CreateDirectory(copy);
            Assert.Equal(0, await RunAsync(TimeSpan.FromSeconds(60), "cp", "-R", systemUnits + "/.", copy));
        }
        // No build servers or reused nodes: they would outlive the command and hold its output open.
        var (code, output) = await RunCapturedAsync(
            TimeSpan.FromSeconds(240), ServerProcess.DotnetHost(), "publish", Path.Combine(repo, "src/Leasehold.Server/Leasehold.Server.csproj"),
            "-c", "Release", "-o", Path.Combine(Root, "opt/leasehold"), "-nodeReuse:false", "-p:UseSharedCompilation=false");
        Assert.True(code == 0, $"dotnet publish exited {code}:{Environment.NewLine}{output}");
    }

    public Task DisposeAsync()
    {
        // Files the unprivileged server wrote are removable by root (the owner of the temporary root).
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }

    public static async Task<int> RunAsync(TimeSpan deadline, string file, params string[] args) =>
        (await RunCapturedAsync(deadline, file, args)).Code;

    public static async Task<(int Code, string Output)> RunCapturedAsync(TimeSpan deadline, string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {deadline.TotalSeconds} s");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Leasehold.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("the repository root (Leasehold.slnx) was not found above the test's directory");
    }
}
