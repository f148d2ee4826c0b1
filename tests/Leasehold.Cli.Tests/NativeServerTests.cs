using System.Globalization;

namespace Leasehold.Cli.Tests;

/// <summary>
/// The tool over the native protocol: <c>--server leasehold://…</c> or <c>LEASEHOLD_SERVER=leasehold://…</c> does
/// what the HTTP address does, and what the tool passes on names the same server.
/// </summary>
public sealed class NativeServerTests(CliServer server) : IClassFixture<CliServer>
{
    [Fact]
    public async Task Lock_status_and_release_over_the_native_protocol()
    {
        var path = CliServer.UniquePath("native-lock");

        var locked = await Tool.RunAsync(server.NativeAddress, "lock", "--path", path, "--ttl", "30");

        Assert.True(locked.ExitCode == 0, locked.ToString());
        var vars = locked.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("export ", StringComparison.Ordinal))
            .Select(line => line.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('\''));
        Assert.Equal(server.NativeAddress.ToString(), vars["LEASEHOLD_SERVER"]);
        var holder = Assert.Single(await server.HoldersAsync(path));
        Assert.Equal(vars["LEASEHOLD_LEASE_ID"], holder.Id.ToString(CultureInfo.InvariantCulture));

        var status = await Tool.RunAsync(server.NativeAddress, "status", path);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains(vars["LEASEHOLD_LEASE_ID"], status.Stdout, StringComparison.Ordinal);

        using (var release = Tool.Start(["release"], null, new Dictionary<string, string>(vars)))
        {
            var released = await release.WaitAsync();
            Assert.True(released.ExitCode == 0, released.ToString());
        }
        Assert.Empty(await server.HoldersAsync(path));
    }

    [Fact]
    public async Task Run_holds_a_session_bound_lease_over_the_native_protocol_while_the_command_runs()
    {
        var path = CliServer.UniquePath("native-run");

        var run = await Tool.RunWithoutServerAsync("run", "--server", server.NativeAddress.ToString(), "--path", path, "--",
            "sh", "-c", "echo \"$LEASEHOLD_SERVER $LEASEHOLD_LEASE_ID\"");

        Assert.True(run.ExitCode == 0, run.ToString());
        var (address, id) = run.Stdout.Trim().Split(' ') is [var a, var i] ? (a, i) : throw new InvalidOperationException(run.ToString());
        Assert.Equal(server.NativeAddress.ToString(), address);
        Assert.True(long.TryParse(id, CultureInfo.InvariantCulture, out _), run.ToString());
        // Released when the command ended, its session closed.
        Assert.Empty(await server.HoldersAsync(path));
    }
}
