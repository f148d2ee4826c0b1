using System.Diagnostics;
using System.Text.Json;
using Leasehold.Client;

namespace Leasehold.Cli.Tests;

/// <summary><c>leasehold watch</c> as a separate process against the real server, over HTTP and the native protocol.</summary>
public sealed class WatchTests(CliServer server) : IClassFixture<CliServer>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Watch_prints_a_granted_and_a_released_line_as_they_happen_and_ctrl_c_ends_it_with_0(bool native)
    {
        var prefix = CliServer.UniquePath("watch");
        // Ctrl-C as a terminal sends it. A test run started in the background by a script inherits SIGINT ignored (POSIX
        // sets that for background jobs without job control), and the tool, like any program, keeps an ignored SIGINT
        // ignored: coreutils' env gives it the default disposition back, so the test is about the tool, not its parent.
        using var tool = Tool.StartProgram("env", ["--default-signal=INT", Tool.Dotnet, Tool.Dll, "watch", "/"], native ? server.NativeAddress : server.BaseAddress);
        await WaitForStreamsAsync(1, tool);

        var lease = await server.Client.AcquireAsync(AcquireOptions.ForPath($"{prefix}/a") with { Owner = "alice", Ttl = TimeSpan.FromSeconds(30) });
        var fence = lease.Fence;
        await lease.DisposeAsync();
        var output = await tool.WaitForStdoutAsync(" released ");

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains(prefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d  granted ", lines[0]);
        Assert.Contains($" {prefix}/a owner=alice lease={lease.Id} fence={fence}", lines[0], StringComparison.Ordinal);
        Assert.Contains(" released ", lines[1], StringComparison.Ordinal);
        Assert.Contains(" reason=released", lines[1], StringComparison.Ordinal);

        await tool.SignalAsync("INT");
        var result = await tool.WaitAsync();
        Assert.True(result.ExitCode == 0, result.ToString());
        await WaitForStreamsAsync(0, tool);
    }

    [Fact]
    public async Task Watch_json_prints_one_event_object_per_line_and_snapshot_comes_first()
    {
        var prefix = CliServer.UniquePath("json");
        await using (var held = await server.Client.AcquireAsync(AcquireOptions.ForPath($"{prefix}/held") with { Ttl = TimeSpan.FromSeconds(30) }))
        {
            using var tool = Tool.Start(["watch", prefix, "--json", "--snapshot"], server.BaseAddress);
            await tool.WaitForStdoutAsync("\"type\":\"snapshot\"");
            await (await server.Client.AcquireAsync(AcquireOptions.ForPath($"{prefix}/new") with { Ttl = TimeSpan.FromSeconds(30) })).DisposeAsync();
            var output = await tool.WaitForStdoutAsync("\"type\":\"released\"");
            await tool.SignalAsync("TERM");
            var result = await tool.WaitAsync();
            Assert.True(result.ExitCode == 0, result.ToString());

            var events = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(["snapshot", "granted", "released"], events.Select(e => e.GetProperty("type").GetString()));
            Assert.Equal($"{prefix}/held", events[0].GetProperty("holders")[0].GetProperty("paths")[0].GetString());
            Assert.Equal($"{prefix}/new", events[1].GetProperty("lease").GetProperty("paths")[0].GetString());
            Assert.True(events[1].GetProperty("revision").GetInt64() > events[0].GetProperty("revision").GetInt64());
        }
    }

    [Theory]
    [InlineData("no-slash", 1, "invalid-path")]
    [InlineData("/lab --after -3", 64, "--after")]
    public async Task A_bad_prefix_or_revision_gets_the_usual_error_exit_code(string args, int exitCode, string message)
    {
        var result = await Tool.RunAsync(server, ["watch", .. args.Split(' ')]);
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    private async Task WaitForStreamsAsync(int count, Tool tool)
    {
        var clock = Stopwatch.StartNew();
        while (server.Events.OpenStreams != count)
        {
            Assert.True(clock.Elapsed < Tool.Timeout, $"not {count} streams open within {Tool.Timeout.TotalSeconds} s\n{tool.Snapshot()}");
            await Task.Delay(20);
        }
    }
}
