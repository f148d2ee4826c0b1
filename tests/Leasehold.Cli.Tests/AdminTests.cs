using System.Globalization;
using System.Text.Json;

namespace Leasehold.Cli.Tests;

/// <summary><c>leasehold admin ...</c> against a real server.</summary>
public sealed class AdminTests(CliServer server) : IClassFixture<CliServer>
{
    [Fact]
    public async Task Admin_release_revokes_a_lease_and_an_unknown_one_is_an_error()
    {
        var path = CliServer.UniquePath("revoke");
        var locked = await Tool.RunAsync(server, "lock", "--path", path, "--ttl", "60", "--owner", "stuck", "--json");
        Assert.True(locked.ExitCode == 0, locked.ToString());
        var id = JsonDocument.Parse(locked.Stdout).RootElement.GetProperty("id").GetInt64();

        var revoked = await Tool.RunAsync(server, "admin", "release", id.ToString(CultureInfo.InvariantCulture));

        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Contains($"lease {id} revoked (owner stuck", revoked.Stdout, StringComparison.Ordinal);
        Assert.Empty(await server.HoldersAsync(path));
        var again = await Tool.RunAsync(server, "admin", "release", id.ToString(CultureInfo.InvariantCulture), "--json");
        Assert.True(again.ExitCode == 1, again.ToString());
        Assert.Contains("\"error\":\"not-found\"", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_end_session_ends_the_session_and_its_leases()
    {
        var path = CliServer.UniquePath("session");
        await using var lease = await server.Client.AcquireAsync(Leasehold.Client.AcquireOptions.ForPath(path));
        var sessionId = lease.SessionId!.Value.ToString(CultureInfo.InvariantCulture);

        var listed = await Tool.RunAsync(server, "admin", "sessions");
        var ended = await Tool.RunAsync(server, "admin", "end-session", sessionId);

        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.StartsWith("ID  ", listed.Stdout, StringComparison.Ordinal);
        Assert.Contains("\n" + sessionId + " ", listed.Stdout, StringComparison.Ordinal);
        Assert.True(ended.ExitCode == 0, ended.ToString());
        Assert.Contains($"session {sessionId} ended", ended.Stdout, StringComparison.Ordinal);
        Assert.Empty(await server.HoldersAsync(path));
    }

    [Fact]
    public async Task Drain_drains_undrain_undrains_and_drains_lists_them()
    {
        var prefix = CliServer.UniquePath("rig");

        var drained = await Tool.RunAsync(server, "admin", "drain", prefix);
        var listed = await Tool.RunAsync(server, "admin", "drains", "--json");
        var refused = await Tool.RunAsync(server, "lock", "--path", prefix + "/phone", "--ttl", "30");

        Assert.True(drained.ExitCode == 0, drained.ToString());
        Assert.StartsWith($"{prefix} drained (by anonymous since ", drained.Stdout, StringComparison.Ordinal);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains(prefix, JsonDocument.Parse(listed.Stdout).RootElement.GetProperty("drains").EnumerateArray().Select(d => d.GetProperty("path").GetString()));
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("drained for maintenance", refused.Stderr, StringComparison.Ordinal);

        var undrained = await Tool.RunAsync(server, "admin", "undrain", prefix);
        Assert.True(undrained.ExitCode == 0, undrained.ToString());
        Assert.Equal($"{prefix} undrained\n", undrained.Stdout);
        var table = await Tool.RunAsync(server, "admin", "drains");
        Assert.DoesNotContain(prefix, table.Stdout, StringComparison.Ordinal);
        var notDrained = await Tool.RunAsync(server, "admin", "undrain", prefix);
        Assert.True(notDrained.ExitCode == 1, notDrained.ToString());
    }

    [Fact]
    public async Task Admin_leases_filters_by_owner_prefix_and_age_without_tokens()
    {
        var prefix = CliServer.UniquePath("list");
        var mine = await Tool.RunAsync(server, "lock", "--path", prefix + "/a", "--ttl", "60", "--owner", "lister-a", "--json");
        var theirs = await Tool.RunAsync(server, "lock", "--path", prefix + "/b", "--ttl", "60", "--owner", "lister-b", "--json");
        var token = JsonDocument.Parse(mine.Stdout).RootElement.GetProperty("token").GetString()!;
        var mineId = JsonDocument.Parse(mine.Stdout).RootElement.GetProperty("id").GetInt64();

        var byPrefix = await Tool.RunAsync(server, "admin", "leases", "--prefix", prefix);
        var byOwner = await Tool.RunAsync(server, "admin", "leases", "--owner", "lister-a", "--json");
        var old = await Tool.RunAsync(server, "admin", "leases", "--prefix", prefix, "--older-than", "10m");
        var badAge = await Tool.RunAsync(server, "admin", "leases", "--older-than", "soon");

        Assert.True(byPrefix.ExitCode == 0, byPrefix.ToString());
        Assert.StartsWith("ID  ", byPrefix.Stdout, StringComparison.Ordinal);
        Assert.Contains("lister-a", byPrefix.Stdout, StringComparison.Ordinal);
        Assert.Contains("lister-b", byPrefix.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(token, byPrefix.Stdout, StringComparison.Ordinal);
        var leases = JsonDocument.Parse(byOwner.Stdout).RootElement.GetProperty("leases");
        Assert.Equal([mineId], leases.EnumerateArray().Select(l => l.GetProperty("id").GetInt64()));
        Assert.DoesNotContain(token, byOwner.Stdout, StringComparison.Ordinal);
        Assert.Equal("no lease matches\n", old.Stdout);
        Assert.True(badAge.ExitCode == 64, badAge.ToString());
        Assert.True(theirs.ExitCode == 0, theirs.ToString());
    }

    [Fact]
    public async Task Admin_without_a_command_or_with_a_bad_id_is_a_usage_error()
    {
        var bare = await Tool.RunAsync(server, "admin");
        var badId = await Tool.RunAsync(server, "admin", "release", "x");

        Assert.True(bare.ExitCode == 64, bare.ToString());
        Assert.True(badId.ExitCode == 64, badId.ToString());
    }
}
