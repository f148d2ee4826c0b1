using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Leasehold.Cli.Tests;

/// <summary><c>leasehold run</c> against a real server: exit codes, the child's environment, release, signals.</summary>
public sealed partial class RunTests(CliServer server) : IClassFixture<CliServer>
{
    [Fact]
    public async Task The_childs_exit_code_passes_through_and_the_lease_is_released_after()
    {
        var path = CliServer.UniquePath("exit");

        var result = await Tool.RunAsync(server, "run", "--path", path, "--", "sh", "-c", "exit 7");

        Assert.True(result.ExitCode == 7, result.ToString());
        Assert.Empty(await server.HoldersAsync(path));
    }

    [Fact]
    public async Task The_path_is_held_while_the_child_runs_and_free_once_it_exits()
    {
        using var dir = new TempDir();
        var path = CliServer.UniquePath("held");
        using var tool = Tool.Start(
            ["run", "--path", path, "--owner", "runner-1", "--", "sh", "-c", $"echo > {dir.File("started")}; while [ ! -e {dir.File("go")} ]; do sleep 0.05; done"],
            server.BaseAddress);
        await tool.WaitForFileAsync(dir.File("started"));

        var holder = Assert.Single(await server.HoldersAsync(path));
        Assert.Equal("runner-1", holder.Owner);
        Assert.Null(holder.Ttl);
        Assert.NotNull(holder.Session);

        await File.WriteAllTextAsync(dir.File("go"), "\n");
        var result = await tool.WaitAsync();
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(await server.HoldersAsync(path));
    }

    [Fact]
    public async Task The_child_gets_the_lease_in_LEASEHOLD_variables()
    {
        var first = CliServer.UniquePath("env-a");
        var second = CliServer.UniquePath("env-b");

        var result = await Tool.RunAsync(server, "run", "--path", first, "--path", second, "--", "env");

        Assert.True(result.ExitCode == 0, result.ToString());
        var env = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        Assert.Matches(Digits(), env["LEASEHOLD_LEASE_ID"]);
        Assert.Matches(Digits(), env["LEASEHOLD_FENCE"]);
        Assert.Matches(Token(), env["LEASEHOLD_TOKEN"]);
        Assert.Equal($"{first} {second}", env["LEASEHOLD_PATHS"]);
        Assert.Equal(server.BaseAddress.ToString(), env["LEASEHOLD_SERVER"]);
        Assert.Empty(await server.HoldersAsync(first));
    }

    [Fact]
    public async Task A_pool_lease_exports_the_chosen_resources_attributes()
    {
        var pool = CliServer.UniquePath("lab");
        await server.DeclareAsync($"{pool}/phone-1", """{"id": "phone-1", "hostname": "rack2", "online": true, "loc": {"rack": 2}, "my-attr": 1.5}""");
        await server.DeclareAsync($"{pool}/phone-2", """{"id": "phone-2", "hostname": "rack3", "online": false}""");

        var prefixed = await Tool.RunAsync(server, "run", "--pool", pool, "--require", "online=true", "--env-prefix", "R_", "--",
            "sh", "-c", "printf '%s|%s|%s|%s|%s\\n' \"$R_ID\" \"$R_HOSTNAME\" \"$R_ONLINE\" \"$R_LOC\" \"$R_MY_ATTR\"");
        var plain = await Tool.RunAsync(server, "run", "--pool", pool, "--require", """{"hostname": "rack2"}""", "--",
            "sh", "-c", "echo \"$ID $HOSTNAME $LEASEHOLD_PATHS\"");

        Assert.True(prefixed.ExitCode == 0, prefixed.ToString());
        Assert.Equal("phone-1|rack2|true|{\"rack\":2}|1.5\n", prefixed.Stdout);
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Equal($"phone-1 rack2 {pool}/phone-1\n", plain.Stdout);
        Assert.Empty(await server.HoldersAsync($"{pool}/phone-1"));
    }

    [Fact]
    public async Task Exit_73_when_the_path_stays_held_for_the_whole_wait()
    {
        var path = CliServer.UniquePath("busy");
        var held = await Tool.RunAsync(server, "lock", "--path", path, "--ttl", "30", "--owner", "keeper");
        Assert.True(held.ExitCode == 0, held.ToString());

        var watch = Stopwatch.StartNew();
        var result = await Tool.RunAsync(server, "run", "--path", path, "--wait", "1.5", "--", "sh", "-c", "echo never");

        Assert.True(result.ExitCode == 73, result.ToString());
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.4), $"gave up after {watch.Elapsed}");
        Assert.DoesNotContain("never", result.Stdout, StringComparison.Ordinal);
        // Not a terminal: plain lines only, no carriage returns.
        Assert.Contains("leasehold: waiting for " + path, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("not granted within 1.5 s (held by keeper", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', result.Stderr);
    }

    [Fact]
    public async Task A_waiting_run_is_granted_when_the_holder_goes()
    {
        var path = CliServer.UniquePath("handover");
        var held = await Tool.RunAsync(server, "lock", "--path", path, "--ttl", "3");
        Assert.True(held.ExitCode == 0, held.ToString());

        var result = await Tool.RunAsync(server, "run", "--path", path, "--wait", "15", "--", "sh", "-c", "echo got it");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("got it\n", result.Stdout);
        Assert.Contains("leasehold: granted after", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exit_74_when_no_declared_resource_matches()
    {
        var pool = CliServer.UniquePath("empty-lab");
        await server.DeclareAsync($"{pool}/a", """{"id": "a", "os": "android"}""");

        var result = await Tool.RunAsync(server, "run", "--pool", pool, "--require", "os=ios", "--wait", "5", "--", "true");

        Assert.True(result.ExitCode == 74, result.ToString());
        Assert.Contains("no-match", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_reports_the_lease_without_its_token_and_errors_as_json()
    {
        var path = CliServer.UniquePath("json");
        var ok = await Tool.RunAsync(server, "run", "--json", "--path", path, "--", "true");
        var bad = await Tool.RunAsync(server, "run", "--json", "--path", "no-slash", "--", "true");

        Assert.True(ok.ExitCode == 0, ok.ToString());
        using (var lease = JsonDocument.Parse(ok.Stderr.Split('\n')[0]))
        {
            Assert.Equal(path, lease.RootElement.GetProperty("paths")[0].GetString());
            Assert.False(lease.RootElement.TryGetProperty("token", out var token) && token.ValueKind != JsonValueKind.Null, "the token was printed");
        }
        Assert.True(bad.ExitCode == 1, bad.ToString());
        using var error = JsonDocument.Parse(bad.Stderr.Trim());
        Assert.Equal("invalid-path", error.RootElement.GetProperty("error").GetString());
        Assert.Equal(1, error.RootElement.GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public async Task SIGTERM_to_the_tool_is_forwarded_to_the_child_and_its_code_returned()
    {
        using var dir = new TempDir();
        var path = CliServer.UniquePath("sigterm");
        using var tool = Tool.Start(
            ["run", "--path", path, "--", "sh", "-c", $"trap 'exit 42' TERM; echo > {dir.File("started")}; while true; do sleep 0.1; done"],
            server.BaseAddress);
        await tool.WaitForFileAsync(dir.File("started"));
        Assert.Single(await server.HoldersAsync(path));

        await tool.SignalAsync("TERM");
        var result = await tool.WaitAsync();

        Assert.True(result.ExitCode == 42, result.ToString());
        Assert.Empty(await server.HoldersAsync(path));
    }

    [Fact]
    public async Task SIGTERM_while_waiting_withdraws_the_request_and_exits_143_without_running_the_command()
    {
        var path = CliServer.UniquePath("withdraw");
        var held = await Tool.RunAsync(server, "lock", "--path", path, "--ttl", "30");
        Assert.True(held.ExitCode == 0, held.ToString());
        using var waiter = Tool.Start(["run", "--path", path, "--wait", "15", "--", "sh", "-c", "echo never"], server.BaseAddress);
        Assert.True(await CliServer.EventuallyAsync(async () => (await server.Client.GetResourceAsync(path)).Queue.Length == 1, Tool.Timeout),
            waiter.Snapshot());

        await waiter.SignalAsync("TERM");
        var result = await waiter.WaitAsync();

        Assert.True(result.ExitCode == 143, result.ToString());
        Assert.Empty(result.Stdout);
        Assert.True(await CliServer.EventuallyAsync(async () => (await server.Client.GetResourceAsync(path)).Queue.Length == 0, TimeSpan.FromSeconds(5)),
            "the withdrawn request stayed queued");
    }

    [Fact]
    public async Task A_SIGKILLed_tools_lease_ends_within_the_session_ttl()
    {
        using var dir = new TempDir();
        var path = CliServer.UniquePath("sigkill");
        using var tool = Tool.Start(
            ["run", "--session-ttl", "1", "--path", path, "--", "sh", "-c", $"echo $$ > {dir.File("pid")}; exec sleep 20 >/dev/null 2>&1"],
            server.BaseAddress);
        var childPid = await tool.WaitForFileAsync(dir.File("pid"));
        try
        {
            Assert.Single(await server.HoldersAsync(path));

            tool.KillHard();
            var watch = Stopwatch.StartNew();
            var freed = await CliServer.EventuallyAsync(async () => (await server.HoldersAsync(path)).Length == 0, TimeSpan.FromSeconds(8));

            Assert.True(freed, "the lease outlived its session by far");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"freed only after {watch.Elapsed}");
        }
        finally
        {
            Tool.KillPid(childPid);
        }
    }

    [Theory]
    [InlineData("--ttl")]
    [InlineData("--session-ttl")]
    public async Task A_lost_lease_stops_the_child_with_SIGTERM_and_exit_75(string keptAliveBy)
    {
        using var dir = new TempDir();
        var path = CliServer.UniquePath("lost");
        // The child releases its own lease behind the tool's back; the next renewal finds it gone.
        var script = $"trap 'echo stopped > {dir.File("stopped")}; exit 0' TERM; '{Tool.Dotnet}' '{Tool.Dll}' release >/dev/null 2>&1; "
                     + "i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done";
        using var tool = Tool.Start(["run", keptAliveBy, "1.5", "--path", path, "--", "sh", "-c", script], server.BaseAddress);

        var result = await tool.WaitAsync();

        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.Contains("lost", result.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(dir.File("stopped")), "the child did not get SIGTERM");
    }

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Digits();

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex Token();
}
