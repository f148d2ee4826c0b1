using System.Diagnostics;
using System.Net.Http.Json;

namespace Leasehold.Cli.Tests;

/// <summary>What needs no running server: usage errors, an unreachable server, <c>validate</c>, and <c>serve</c> itself.</summary>
public sealed class UsageTests
{
    private static readonly Uri Nowhere = new($"http://127.0.0.1:{Tool.ClosedPort()}");

    public static TheoryData<string[]> UsageErrors() => new()
    {
        new[] { "run", "--", "true" },
        new[] { "run", "--path", "/x" },
        new[] { "run", "--path", "/x", "--pool", "/p", "--", "true" },
        new[] { "run", "--path", "/x", "--require", "a=b", "--", "true" },
        new[] { "run", "--pool", "/p", "--require", "{\"a\":", "--", "true" },
        new[] { "run", "--path", "/x", "--wait", "soon", "--", "true" },
        new[] { "run", "--path", "/x", "--server", "ftp://example", "--", "true" },
        new[] { "run", "--local", "/tmp", "--", "true" },
        new[] { "run", "--local", "/tmp", "--path", "a/b", "--", "true" },
        new[] { "run", "--path", "/x", "--ttl", "2", "--kill-grace", "0.6", "--", "true" },
        new[] { "run", "--path", "/x", "--kill-grace", "4", "--", "true" },
        new[] { "run", "--local", "/tmp", "--path", "x", "--kill-grace", "2h", "--", "true" },
        new[] { "lock", "--path", "/x" },
        new[] { "renew", "--token", "abc" },
        new[] { "release", "12" },
        new[] { "frobnicate" },
        Array.Empty<string>(),
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public async Task Usage_errors_exit_64(string[] args)
    {
        var result = await Tool.RunAsync(Nowhere, args);

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.StartsWith("leasehold: ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_exits_0()
    {
        var result = await Tool.RunAsync(Nowhere, "run", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("--env-prefix", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_is_exit_69()
    {
        var run = await Tool.RunWithoutServerAsync("run", "--server", Nowhere.ToString(), "--path", "/x", "--", "sh", "-c", "echo ran");
        var withTtl = await Tool.RunAsync(Nowhere, "lock", "--path", "/x", "--ttl", "10");
        var status = await Tool.RunAsync(Nowhere, "status", "/x", "--json");

        Assert.True(run.ExitCode == 69, run.ToString());
        Assert.Empty(run.Stdout);
        Assert.Contains($"cannot reach the server at {Nowhere}", run.Stderr, StringComparison.Ordinal);
        Assert.True(withTtl.ExitCode == 69, withTtl.ToString());
        Assert.True(status.ExitCode == 69, status.ToString());
        Assert.Contains("\"error\":\"unreachable\"", status.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_that_cannot_be_found_is_127()
    {
        using var dir = new TempDir();
        var result = await Tool.RunWithoutServerAsync("run", "--local", dir.Path, "--path", "x", "--", "/no/such/program");

        Assert.True(result.ExitCode == 127, result.ToString());
    }

    [Fact]
    public async Task A_command_that_cannot_be_executed_is_126()
    {
        using var dir = new TempDir();
        await File.WriteAllTextAsync(dir.File("script"), "#!/bin/sh\necho ran\n"); // not executable

        var result = await Tool.RunWithoutServerAsync("run", "--local", dir.Path, "--path", "x", "--", dir.File("script"));

        Assert.True(result.ExitCode == 126, result.ToString());
        Assert.Contains($"cannot run {dir.File("script")}", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Validate_gives_the_servers_messages_and_codes()
    {
        using var dir = new TempDir();
        await File.WriteAllTextAsync(dir.File("ok.json"), """[{"id": "1", "hostname": "h", "online": true}, {"id": 2}]""");
        await File.WriteAllTextAsync(dir.File("dup.json"), """[{"id": "1"}, {"id": "1"}]""");
        await File.WriteAllTextAsync(dir.File("noid.json"), """[{"hostname": "h"}]""");
        await File.WriteAllTextAsync(dir.File("object.json"), """{"id": "1"}""");

        var ok = await Tool.RunWithoutServerAsync("validate", dir.File("ok.json"));
        var dup = await Tool.RunWithoutServerAsync("validate", dir.File("dup.json"));
        var noId = await Tool.RunWithoutServerAsync("validate", dir.File("noid.json"));
        var notList = await Tool.RunWithoutServerAsync("validate", dir.File("object.json"));

        Assert.Equal(new ToolResult(0, $"{dir.File("ok.json")}: 2 resources, valid\n", ""), ok);
        Assert.Equal(new ToolResult(1, "", "Invalid json, duplicate ids in ['1']\n"), dup);
        Assert.Equal(new ToolResult(1, "", "Invalid json, id property is missing\n"), noId);
        Assert.Equal(1, notList.ExitCode);
        Assert.StartsWith("invalid resources json file: ", notList.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_runs_the_server_with_its_arguments_and_stops_on_SIGTERM()
    {
        using var dir = new TempDir();
        var port = Tool.ClosedPort();
        await File.WriteAllTextAsync(dir.File("resources.json"), """[{"id": "r1", "os": "linux"}]""");
        using var serve = Tool.Start(["serve", "--urls", $"http://127.0.0.1:{port}", "--Leasehold:Native:Port=0", "--data-dir", dir.File("data"),
            "--pool", "/lab", "--resources", dir.File("resources.json"), "--Logging:LogLevel:Default=Warning"]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(2) };

        var up = await CliServerUp(http, serve);
        Assert.True(up, serve.Snapshot());
        var pool = await http.GetStringAsync(new Uri("v1/pools/lab/resources.json", UriKind.Relative));
        Assert.Contains("\"r1\"", pool, StringComparison.Ordinal);
        Assert.True(Directory.Exists(dir.File("data")));

        await serve.SignalAsync("TERM");
        var result = await serve.WaitAsync();
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task Serve_refuses_an_invalid_resources_file_with_exit_2()
    {
        using var dir = new TempDir();
        await File.WriteAllTextAsync(dir.File("resources.json"), """[{"id": "1"}, {"id": "1"}]""");

        var result = await Tool.RunWithoutServerAsync("serve", "--urls", "http://127.0.0.1:0", "--data-dir", dir.File("data"),
            "--pool", "/lab", "--resources", dir.File("resources.json"));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("leasehold: cannot start: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Invalid json, duplicate ids in ['1']", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_help_lists_every_setting_with_its_default()
    {
        var result = await Tool.RunWithoutServerAsync("serve", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n');
        foreach (var setting in Leasehold.Server.ServerSettings.All)
        {
            var line = lines.FirstOrDefault(l => l.TrimStart().StartsWith(setting.Key + " ", StringComparison.Ordinal));
            Assert.True(line is not null, $"{setting.Key} is missing\n{result}");
            Assert.EndsWith($"(default: {setting.Default})", line.TrimEnd(), StringComparison.Ordinal);
        }
        // The table itself: every bound option, and the settings read key by key.
        foreach (var property in typeof(Leasehold.Server.LeaseholdOptions).GetProperties())
        {
            Assert.Contains($"Leasehold:{property.Name} ", result.Stdout, StringComparison.Ordinal);
        }
        Assert.Matches(@"Leasehold:IdServer:Port +.*\(default: 9777\)", result.Stdout);
        Assert.Matches(@"Leasehold:Pools:N:File +.*\(default: none\)", result.Stdout);
        Assert.Contains("--config FILE", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_a_missing_config_file_with_exit_2()
    {
        using var dir = new TempDir();

        var result = await Tool.RunWithoutServerAsync("serve", "--urls", "http://127.0.0.1:0", "--data-dir", dir.File("data"),
            "--config", dir.File("missing.json"));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("leasehold: cannot start: settings file ", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(dir.File("data")), "the server opened its data directory before refusing");
    }

    private static async Task<bool> CliServerUp(HttpClient http, Tool serve)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < Tool.Timeout && !serve.HasExited)
        {
            try
            {
                var health = await http.GetFromJsonAsync<Dictionary<string, string>>(new Uri("healthz", UriKind.Relative));
                if (health?["status"] == "ok")
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow start.
            }
            await Task.Delay(50);
        }
        return false;
    }
}
