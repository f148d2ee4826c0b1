using System.Diagnostics;
using Leasehold.Client;

namespace Leasehold.Cli.Tests.Lockable;

/// <summary>
/// <c>--resources http://SERVER/v1/pools/lab/resources.json</c>: the same flags, allocated by that server
/// from that pool (no LEASEHOLD_SERVER is set: the URL names the server).
/// </summary>
public sealed class LockablePoolTests(LockablePoolServer server) : IClassFixture<LockablePoolServer>
{
    private static readonly string Host = LockableFiles.Host;

    [Fact]
    public async Task The_pool_allocates_with_the_defaults_and_the_child_gets_fields_and_the_lease()
    {
        var result = await Tool.RunWithoutServerAsync("run", "--resources", server.ListUrl, "--requirements", "os=android", "--",
            "echo \"$ID|$HOSTNAME|$ONLINE|$LOC|$LEASEHOLD_PATHS|$LEASEHOLD_SERVER\"; [ -n \"$LEASEHOLD_LEASE_ID\" ] && [ -n \"$LEASEHOLD_FENCE\" ]");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"phone-1|{Host}|True|{{'rack': 2}}|/lab/phone-1|{server.BaseAddress}\n", result.Stdout);
        Assert.Empty((await server.Client.GetResourceAsync("/lab/phone-1")).Holders);
    }

    [Fact]
    public async Task Null_removes_the_online_default_on_the_server_too()
    {
        var result = await Tool.RunWithoutServerAsync("run", "--resources", server.ListUrl, "--requirements", """{"online": null, "id": "phone-2"}""", "--", "echo \"$ID\"");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("phone-2\n", result.Stdout);
    }

    [Fact]
    public async Task Nothing_matching_is_exit_74_with_py_lockables_message()
    {
        var result = await Tool.RunWithoutServerAsync("run", "--resources", server.ListUrl, "--requirements", "id=phone-2", "--", "echo ran");

        Assert.True(result.ExitCode == 74, result.ToString());
        Assert.Empty(result.Stdout);
        Assert.Contains($"Suitable resource not available, requirements={{'hostname': '{Host}', 'online': True, 'id': 'phone-2'}}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_held_resource_times_out_with_py_lockables_message()
    {
        await using var holder = await server.Client.AcquireAsync(AcquireOptions.ForPath("/lab/busy-1") with { Ttl = TimeSpan.FromSeconds(30) });

        var watch = Stopwatch.StartNew();
        var result = await Tool.RunWithoutServerAsync("run", "--resources", server.ListUrl, "--requirements", "os=busy", "--timeout", "1", "--", "echo ran");
        var elapsed = watch.Elapsed;

        Assert.True(result.ExitCode == 73, result.ToString());
        Assert.Empty(result.Stdout);
        Assert.Contains("Allocation timeout (1s)", result.Stderr, StringComparison.Ordinal);
        Assert.True(elapsed >= TimeSpan.FromSeconds(0.9), $"gave up after {elapsed}");
    }

    [Fact]
    public async Task Validate_only_reads_the_pools_list()
    {
        var result = await Tool.RunWithoutServerAsync("run", "--validate-only", "--resources", server.ListUrl);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"{server.ListUrl}: 3 resources, valid\n", result.Stdout);
    }

    [Fact]
    public async Task A_server_that_cannot_be_reached_is_exit_69()
    {
        var url = $"http://127.0.0.1:{Tool.ClosedPort()}/v1/pools/lab/resources.json";

        var result = await Tool.RunWithoutServerAsync("run", "--resources", url, "--", "echo ran");

        Assert.True(result.ExitCode == 69, result.ToString());
        Assert.Contains("cannot reach the server at http://127.0.0.1:", result.Stderr, StringComparison.Ordinal);
    }
}
