namespace Leasehold.Cli.Tests;

/// <summary>
/// <c>--server a,b,c</c> and <c>LEASEHOLD_SERVER=a,b,c</c>: a cluster's nodes, tried in turn, so a node that is down
/// costs a retry, not the command.
/// </summary>
public sealed class ServerListTests(CliServer server) : IClassFixture<CliServer>
{
    private static string Dead() => $"http://127.0.0.1:{Tool.ClosedPort()}/";

    private static Dictionary<string, string> ServerVariable(string servers) => new() { ["LEASEHOLD_SERVER"] = servers };

    [Fact]
    public async Task Lock_and_release_with_a_dead_first_server_work_and_pass_the_list_on()
    {
        var path = CliServer.UniquePath("listed");
        var servers = Dead() + "," + server.BaseAddress;

        var locked = await Tool.RunWithoutServerAsync("lock", "--server", servers, "--path", path, "--ttl", "30");

        Assert.True(locked.ExitCode == 0, locked.ToString());
        var vars = locked.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("export ", StringComparison.Ordinal))
            .Select(line => line.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('\''));
        Assert.Equal(servers, vars["LEASEHOLD_SERVER"]);
        var holder = Assert.Single(await server.HoldersAsync(path));
        Assert.Equal(vars["LEASEHOLD_LEASE_ID"], holder.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // The list from the environment, as after `eval "$(leasehold lock ...)"`.
        using (var release = Tool.Start(["release"], null, new Dictionary<string, string>(vars)))
        {
            var released = await release.WaitAsync();
            Assert.True(released.ExitCode == 0, released.ToString());
        }
        Assert.Empty(await server.HoldersAsync(path));
    }

    [Fact]
    public async Task Run_with_the_list_in_the_environment_holds_the_lease_and_gives_the_child_the_list()
    {
        var path = CliServer.UniquePath("run-listed");
        var servers = $"{Dead()}, {server.BaseAddress}";

        using var tool = Tool.Start(["run", "--path", path, "--", "sh", "-c", "echo \"$LEASEHOLD_SERVER\""], null, ServerVariable(servers));
        var result = await tool.WaitAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        // Spaces after the commas are taken; the child gets the list as the tool understood it.
        Assert.Equal(servers.Replace(" ", "", StringComparison.Ordinal), result.Stdout.Trim());
        Assert.Empty(await server.HoldersAsync(path));
    }

    [Fact]
    public async Task Status_reads_through_a_list()
    {
        var result = await Tool.RunWithoutServerAsync("status", CliServer.UniquePath("status"), "--server", $"{Dead()},{Dead()},{server.BaseAddress}");

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    public static TheoryData<string, string> BadLists() => new()
    {
        { "http://127.0.0.1:1/,,http://127.0.0.1:2/", "--server: entry 2 of 'http://127.0.0.1:1/,,http://127.0.0.1:2/' is empty" },
        { "http://127.0.0.1:1/,", "--server: entry 2 of 'http://127.0.0.1:1/,' is empty" },
        { "http://127.0.0.1:1/,ftp://example", "--server: 'ftp://example' is not a leasehold://, leaseholds://, http:// or https:// URL" },
        { "http://127.0.0.1:1/,locks-2:8765", "--server: 'locks-2:8765' is not a leasehold://, leaseholds://, http:// or https:// URL" },
    };

    [Theory]
    [MemberData(nameof(BadLists))]
    public async Task A_bad_entry_in_the_list_is_a_usage_error_naming_it(string servers, string message)
    {
        var onCommandLine = await Tool.RunWithoutServerAsync("status", "/x", "--server", servers);
        using var fromEnvironment = Tool.Start(["status", "/x"], null, ServerVariable(servers));
        var fromVariable = await fromEnvironment.WaitAsync();

        foreach (var result in new[] { onCommandLine, fromVariable })
        {
            Assert.True(result.ExitCode == 64, result.ToString());
            Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task When_no_server_of_the_list_answers_the_error_names_them_all_and_exits_69()
    {
        var (a, b) = (Dead(), Dead());

        var result = await Tool.RunWithoutServerAsync("lock", "--server", $"{a},{b}", "--path", "/x", "--ttl", "10");

        Assert.True(result.ExitCode == 69, result.ToString());
        Assert.Contains($"cannot reach any of the servers {a}, {b}", result.Stderr, StringComparison.Ordinal);
    }
}
