using System.Text.Json;

namespace Leasehold.Cli.Tests;

/// <summary><c>lock</c>, <c>renew</c>, <c>release</c>, <c>status</c> and <c>ls</c> against a real server.</summary>
public sealed class LockTests(CliServer server) : IClassFixture<CliServer>
{
    private static Dictionary<string, string> ParseAssignments(string text)
        => text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("export ", StringComparison.Ordinal))
            .Select(line => line.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('\''));

    [Fact]
    public async Task Lock_renew_release_round_trip()
    {
        var path = CliServer.UniquePath("round-trip");

        var locked = await Tool.RunAsync(server, "lock", "--path", path, "--ttl", "30", "--owner", "shell-user");
        Assert.True(locked.ExitCode == 0, locked.ToString());
        var vars = ParseAssignments(locked.Stdout);
        Assert.Equal(path, vars["LEASEHOLD_PATHS"]);
        Assert.Contains("export LEASEHOLD_LEASE_ID LEASEHOLD_TOKEN LEASEHOLD_FENCE", locked.Stdout, StringComparison.Ordinal);
        var id = vars["LEASEHOLD_LEASE_ID"];
        var token = vars["LEASEHOLD_TOKEN"];
        var holder = Assert.Single(await server.HoldersAsync(path));
        Assert.Equal(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture), holder.Id);
        Assert.Equal(long.Parse(vars["LEASEHOLD_FENCE"], System.Globalization.CultureInfo.InvariantCulture), holder.Fence);
        Assert.Equal(30, holder.Ttl);

        var renewed = await Tool.RunAsync(server, "renew", id, "--token", token, "--ttl", "120");
        Assert.True(renewed.ExitCode == 0, renewed.ToString());
        Assert.Contains($"lease {id} renewed", renewed.Stdout, StringComparison.Ordinal);
        Assert.Equal(120, Assert.Single(await server.HoldersAsync(path)).Ttl);

        // The id and token from the environment, as after `eval "$(leasehold lock ...)"`.
        using (var release = Tool.Start(["release"], server.BaseAddress, new Dictionary<string, string> { ["LEASEHOLD_LEASE_ID"] = id, ["LEASEHOLD_TOKEN"] = token }))
        {
            var released = await release.WaitAsync();
            Assert.True(released.ExitCode == 0, released.ToString());
            Assert.Contains($"lease {id} released", released.Stdout, StringComparison.Ordinal);
        }
        Assert.Empty(await server.HoldersAsync(path));

        var renewGone = await Tool.RunAsync(server, "renew", id, "--token", token);
        Assert.True(renewGone.ExitCode == 75, renewGone.ToString());
        var releaseGone = await Tool.RunAsync(server, "release", id, "--token", token);
        Assert.True(releaseGone.ExitCode == 0, releaseGone.ToString());
        Assert.Contains("was not held", releaseGone.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_shell_can_eval_the_lock_output_and_release_from_the_environment()
    {
        var path = CliServer.UniquePath("eval");
        var tool = $"'{Tool.Dotnet}' '{Tool.Dll}'";
        var script = $"set -e; eval \"$({tool} lock --path {path} --ttl 30)\"; echo \"held $LEASEHOLD_LEASE_ID\"; "
                     + $"sh -c '{tool.Replace("'", "\"", StringComparison.Ordinal)} status \"$LEASEHOLD_PATHS\"'; {tool} release";
        using var shell = Tool.StartProgram("sh", ["-c", script], server.BaseAddress);

        var result = await shell.WaitAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches("held [0-9]+", result.Stdout);
        Assert.Contains("exclusive", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("released", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(await server.HoldersAsync(path));
    }

    [Fact]
    public async Task Lock_json_gives_the_token_and_a_wrong_token_is_refused()
    {
        var path = CliServer.UniquePath("json-lock");
        var locked = await Tool.RunAsync(server, "lock", "--json", "--path", path, "--ttl", "30");
        Assert.True(locked.ExitCode == 0, locked.ToString());
        using var lease = JsonDocument.Parse(locked.Stdout);
        var id = lease.RootElement.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var token = lease.RootElement.GetProperty("token").GetString()!;

        var wrong = await Tool.RunAsync(server, "release", id, "--token", new string('0', 32));
        Assert.True(wrong.ExitCode == 1, wrong.ToString());
        Assert.Contains("invalid-token", wrong.Stderr, StringComparison.Ordinal);
        Assert.Single(await server.HoldersAsync(path));

        var released = await Tool.RunAsync(server, "release", id, "--token", token, "--json");
        Assert.True(released.ExitCode == 0, released.ToString());
        Assert.Contains("\"released\":true", released.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_and_ls_show_holders_and_the_queue()
    {
        var prefix = CliServer.UniquePath("tree");
        var a = $"{prefix}/a";
        var b = $"{prefix}/b";
        var lockA = await Tool.RunAsync(server, "lock", "--path", a, "--ttl", "60", "--owner", "alice");
        var lockB = await Tool.RunAsync(server, "lock", "--path", b, "--ttl", "60", "--owner", "bob", "--shared");
        Assert.True(lockA.ExitCode == 0, lockA.ToString());
        Assert.True(lockB.ExitCode == 0, lockB.ToString());
        var idA = ParseAssignments(lockA.Stdout)["LEASEHOLD_LEASE_ID"];
        using var waiter = Tool.Start(["run", "--path", a, "--wait", "15", "--owner", "waiting-carol", "--", "true"], server.BaseAddress);
        Assert.True(await CliServer.EventuallyAsync(async () => (await server.Client.GetResourceAsync(a)).Queue.Length == 1, Tool.Timeout),
            waiter.Snapshot());

        var status = await Tool.RunAsync(server, "status", a);
        var list = await Tool.RunAsync(server, "ls", prefix);
        var listJson = await Tool.RunAsync(server, "ls", prefix, "--json");
        var statusFree = await Tool.RunAsync(server, "status", $"{prefix}/c");

        Assert.True(status.ExitCode == 0, status.ToString());
        var statusLines = status.Stdout.Split('\n');
        Assert.Equal($"path: {a}", statusLines[0]);
        Assert.Equal(["ID", "OWNER", "MODE", "FENCE", "SINCE", "EXPIRES"], statusLines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"  {idA} ", statusLines[3], StringComparison.Ordinal);
        Assert.Contains("alice", statusLines[3], StringComparison.Ordinal);
        Assert.Contains("queue:", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("waiting-carol", status.Stdout, StringComparison.Ordinal);

        Assert.True(list.ExitCode == 0, list.ToString());
        var rows = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("PATH", rows[0], StringComparison.Ordinal);
        Assert.Contains(rows, r => r.StartsWith(a, StringComparison.Ordinal) && r.Contains("alice", StringComparison.Ordinal) && r.TrimEnd().EndsWith('1'));
        Assert.Contains(rows, r => r.StartsWith(b, StringComparison.Ordinal) && r.Contains("bob", StringComparison.Ordinal) && r.Contains("shared", StringComparison.Ordinal));

        using var json = JsonDocument.Parse(listJson.Stdout);
        Assert.Equal(2, json.RootElement.GetProperty("resources").GetArrayLength());
        Assert.Contains("holders: none", statusFree.Stdout, StringComparison.Ordinal);

        var release = await Tool.RunAsync(server, "release", idA, "--token", ParseAssignments(lockA.Stdout)["LEASEHOLD_TOKEN"]);
        Assert.True(release.ExitCode == 0, release.ToString());
        var waited = await waiter.WaitAsync();
        Assert.True(waited.ExitCode == 0, waited.ToString());
    }

    [Fact]
    public async Task Status_of_a_parent_names_the_childs_lease_and_requests_queued_below()
    {
        var prefix = CliServer.UniquePath("parent");
        var child = $"{prefix}/child";
        var locked = await Tool.RunAsync(server, "lock", "--path", child, "--ttl", "60", "--owner", "child-holder");
        Assert.True(locked.ExitCode == 0, locked.ToString());
        var id = ParseAssignments(locked.Stdout)["LEASEHOLD_LEASE_ID"];
        using var waiter = Tool.Start(["run", "--path", $"{child}/leaf", "--wait", "15", "--owner", "leaf-waiter", "--", "true"], server.BaseAddress);
        Assert.True(await CliServer.EventuallyAsync(async () => (await server.Client.GetResourceAsync($"{child}/leaf")).Queue.Length == 1, Tool.Timeout),
            waiter.Snapshot());

        var status = await Tool.RunAsync(server, "status", prefix);

        Assert.True(status.ExitCode == 0, status.ToString());
        var lines = status.Stdout.Split('\n');
        Assert.Contains("holders: none", lines);
        var blocked = Array.IndexOf(lines, "blocked by leases above or below:");
        Assert.True(blocked > 0, status.Stdout);
        Assert.Equal(["ID", "OWNER", "MODE", "FENCE", "SINCE", "EXPIRES", "PATHS"], lines[blocked + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"  {id} ", lines[blocked + 2], StringComparison.Ordinal);
        Assert.Contains("child-holder", lines[blocked + 2], StringComparison.Ordinal);
        Assert.EndsWith(child, lines[blocked + 2].TrimEnd(), StringComparison.Ordinal);
        var ahead = Array.IndexOf(lines, "queued ahead, above or below:");
        Assert.True(ahead > blocked, status.Stdout);
        Assert.Contains("leaf-waiter", lines[ahead + 2], StringComparison.Ordinal);

        var release = await Tool.RunAsync(server, "release", id, "--token", ParseAssignments(locked.Stdout)["LEASEHOLD_TOKEN"]);
        Assert.True(release.ExitCode == 0, release.ToString());
        var waited = await waiter.WaitAsync();
        Assert.True(waited.ExitCode == 0, waited.ToString());
    }
}
