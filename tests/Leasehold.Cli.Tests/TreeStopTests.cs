using System.Diagnostics;
using Leasehold.Client.Tests;
using Xunit.Abstractions;

namespace Leasehold.Cli.Tests;

/// <summary>
/// Nothing of the command outlives <c>run</c>'s hold on the lock (Linux): when the lease is lost, the local
/// <c>--ttl</c> runs out, or <c>run</c> itself is SIGKILLed, the command's whole tree — grandchildren,
/// processes in sessions of their own, double-forked orphans (<see cref="CommandTree"/>) — ends, and
/// ends before the lock can be anyone else's: checked by the next holder's command the moment it is
/// granted.
/// </summary>
public sealed class TreeStopTests(CliServer server, ITestOutputHelper output) : IClassFixture<CliServer>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_lease_released_elsewhere_stops_the_whole_tree_before_exit_75(bool stubborn)
    {
        using var dir = new TempDir();
        using var tree = new CommandTree(dir, stubborn, before: $"echo \"$LEASEHOLD_LEASE_ID $LEASEHOLD_TOKEN\" > {dir.File("lease")}; ");
        var path = CliServer.UniquePath("released");
        using var tool = Tool.Start(["run", "--ttl", "3", "--kill-grace", "0.5", "--path", path, "--", .. tree.Command], server.BaseAddress);
        await tool.WaitForFileAsync(tree.Ready);
        Assert.Equal(CommandTree.Size, tree.Running().Count);
        var lease = (await File.ReadAllTextAsync(dir.File("lease"))).Split();

        await server.Client.ReleaseAsync(long.Parse(lease[0], System.Globalization.CultureInfo.InvariantCulture), lease[1]);
        var result = await tool.WaitAsync();

        Assert.Empty(tree.Running());
        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.Contains($"lease {lease[0]} lost (released or revoked elsewhere", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_local_ttl_that_runs_out_stops_the_whole_tree_and_only_then_frees_the_lock(bool stubborn)
    {
        using var dir = new TempDir();
        using var tree = new CommandTree(dir, stubborn);
        var grace = TimeSpan.FromSeconds(0.5);
        using var tool = Tool.Start(["run", "--local", dir.File("locks"), "--path", "job", "--ttl", "3", "--kill-grace", "0.5", "--", .. tree.Command]);
        await tool.WaitForFileAsync(tree.Ready);
        Assert.Equal(CommandTree.Size, tree.Running().Count);
        using var next = Tool.Start(["run", "--local", dir.File("locks"), "--path", "job", "--wait", "15", "--",
            "sh", "-c", tree.CheckScript(dir.File("at-grant"))]);

        var watch = Stopwatch.StartNew();
        var result = await tool.WaitAsync();
        var took = watch.Elapsed;

        Assert.Empty(tree.Running());
        var nextResult = await next.WaitAsync();
        Assert.True(nextResult.ExitCode == 0, nextResult.ToString());
        Assert.Empty(CommandTree.RunningAtCheck(await File.ReadAllTextAsync(dir.File("at-grant"))));
        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.Contains("--ttl of 3.0 s ran out; stopping sh", result.Stderr, StringComparison.Ordinal);
        if (stubborn)
        {
            // It took SIGKILL, and that came after the grace.
            Assert.True(took >= grace, $"exited {took} after the tree was ready");
        }
    }

    [Fact]
    public async Task A_SIGKILLed_run_takes_the_whole_tree_with_it_within_a_second()
    {
        using var dir = new TempDir();
        using var tree = new CommandTree(dir, stubborn: true);
        var path = CliServer.UniquePath("sigkilled");
        using var tool = Tool.Start(["run", "--path", path, "--", .. tree.Command], server.BaseAddress);
        await tool.WaitForFileAsync(tree.Ready);
        Assert.Equal(CommandTree.Size, tree.Running().Count);

        tool.KillHard();
        var gone = await tree.WaitGoneAsync(TimeSpan.FromSeconds(5));

        Assert.True(gone is not null, $"still running 5 s after run was SIGKILLed: {string.Join(", ", tree.Running())}");
        output.WriteLine($"the tree ended {gone.Value.TotalMilliseconds:0} ms after run was SIGKILLed");
        Assert.True(gone <= TimeSpan.FromSeconds(1), $"the tree ended {gone!.Value.TotalMilliseconds:0} ms after run was SIGKILLed");
    }

    [Fact]
    public async Task A_SIGKILLed_local_run_frees_its_lock_only_once_the_tree_is_dead()
    {
        using var dir = new TempDir();
        using var tree = new CommandTree(dir, stubborn: true);
        using var tool = Tool.Start(["run", "--local", dir.File("locks"), "--path", "job", "--", .. tree.Command]);
        await tool.WaitForFileAsync(tree.Ready);
        using var next = Tool.Start(["run", "--local", dir.File("locks"), "--path", "job", "--wait", "15", "--",
            "sh", "-c", tree.CheckScript(dir.File("at-grant"))]);
        // The next one has been trying for a while (it says so after a second): the kill meets a waiter.
        await next.WaitForStderrAsync("leasehold: waiting for");

        tool.KillHard();
        var nextResult = await next.WaitAsync();

        Assert.True(nextResult.ExitCode == 0, nextResult.ToString());
        Assert.Empty(CommandTree.RunningAtCheck(await File.ReadAllTextAsync(dir.File("at-grant"))));
        Assert.Empty(tree.Running());
    }

    [Fact]
    public async Task If_the_guard_between_run_and_the_command_is_killed_run_stops_the_tree_before_it_releases()
    {
        using var dir = new TempDir();
        using var tree = new CommandTree(dir, stubborn: false);
        var path = CliServer.UniquePath("guard-killed");
        using var tool = Tool.Start(["run", "--path", path, "--", .. tree.Command], server.BaseAddress);
        await tool.WaitForFileAsync(tree.Ready);
        var shell = tree.Pids[0];
        var guard = int.Parse((await File.ReadAllTextAsync($"/proc/{shell}/stat")).Split(')')[^1].Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(tool.Pid, guard);
        Assert.Contains(CommandGuard.Verb, await File.ReadAllTextAsync($"/proc/{guard}/cmdline"), StringComparison.Ordinal);
        // The lease's variables are the command's; the guard runs in run's own environment.
        Assert.Contains("\0LEASEHOLD_TOKEN=", "\0" + await File.ReadAllTextAsync($"/proc/{shell}/environ"), StringComparison.Ordinal);
        Assert.DoesNotContain("\0LEASEHOLD_TOKEN=", "\0" + await File.ReadAllTextAsync($"/proc/{guard}/environ"), StringComparison.Ordinal);

        Assert.True(Posix.Kill(guard, Posix.SIGKILL));
        var result = await tool.WaitAsync();

        Assert.Empty(tree.Running());
        Assert.True(result.ExitCode == 137, result.ToString());
        Assert.Contains("guard of sh ended (exit 137)", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(await server.HoldersAsync(path));
    }

    /// <summary>
    /// The server stops answering (a silent partition, so every renewal hangs): <c>run</c> must give the
    /// lease up early enough that SIGTERM, the grace and SIGKILL are over before the server lets the
    /// lease expire and grants it to the next in the queue. With a lifetime of 5 s and a grace of 1 s:
    /// SIGTERM at most 3.5 s after the last renewal that got through, SIGKILL 1 s later, 0.5 s ahead
    /// of the expiry.
    /// </summary>
    [Theory]
    [InlineData("--ttl")]
    [InlineData("--session-ttl")]
    public async Task An_unreachable_server_is_given_up_in_time_for_the_tree_to_be_dead_before_the_lease_expires(string keptAliveBy)
    {
        using var dir = new TempDir();
        using var tree = new CommandTree(dir, stubborn: true);
        var path = CliServer.UniquePath("partitioned");
        await using var proxy = new BlackholeProxy(server.BaseAddress.Port);
        using var tool = Tool.Start(["run", keptAliveBy, "5", "--kill-grace", "1", "--path", path, "--", .. tree.Command], proxy.Address);
        await tool.WaitForFileAsync(tree.Ready);
        using var next = Tool.Start(["run", "--path", path, "--wait", "30", "--", "sh", "-c", tree.CheckScript(dir.File("at-grant"))], server.BaseAddress);
        Assert.True(await CliServer.EventuallyAsync(async () => (await server.Client.GetResourceAsync(path)).Queue.Length == 1, Tool.Timeout),
            next.Snapshot());

        proxy.Partition();
        var result = await tool.WaitAsync(TimeSpan.FromSeconds(30));
        var nextResult = await next.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(nextResult.ExitCode == 0, nextResult.ToString());
        Assert.Empty(CommandTree.RunningAtCheck(await File.ReadAllTextAsync(dir.File("at-grant"))));
        Assert.Empty(tree.Running());
        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.Contains("lost: no renewal got through for 3.5 s", result.Stderr, StringComparison.Ordinal);
    }
}
