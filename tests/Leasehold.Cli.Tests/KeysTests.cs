using Leasehold.Server;

namespace Leasehold.Cli.Tests;

/// <summary>
/// <c>leasehold admin keys</c> makes, rotates and revokes keys in a keys file a real server reads, and the other
/// commands authenticate with <c>LEASEHOLD_API_KEY</c>.
/// </summary>
public sealed class KeysTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-keys-").FullName;

    private string KeysFile => Path.Combine(_dir, "keys.json");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_created_key_locks_through_the_cli_and_a_revoked_one_stops()
    {
        var created = await Tool.RunWithoutServerAsync("admin", "keys", "create", "--principal", "ci", "--id", "ci-bot", "--file", KeysFile);
        Assert.True(created.ExitCode == 0, created.ToString());
        var key = created.Stdout.Trim();
        Assert.StartsWith("lh_ci-bot_", key, StringComparison.Ordinal);
        var file = await File.ReadAllTextAsync(KeysFile);
        Assert.DoesNotContain(key, file, StringComparison.Ordinal);
        Assert.Contains(Leasehold.Server.Security.ApiKeys.Hash(key), file, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeysFile));
        }

        await using var app = LeaseholdApp.Build(["--urls", "http://127.0.0.1:0", "--Leasehold:Durability=memory", "--Logging:LogLevel:Default=Warning",
            $"--Leasehold:Security:KeysFile={KeysFile}",
            "--Leasehold:Security:Rules:0:Who:0=ci", "--Leasehold:Security:Rules:0:Prefix=/ci/**", "--Leasehold:Security:Rules:0:Rights:0=lock", "--Leasehold:Security:Rules:0:Rights:1=read"]);
        using (var cts = new CancellationTokenSource(Tool.Timeout))
        {
            await app.StartAsync(cts.Token);
        }
        var server = new Uri(app.Urls.Single() + "/");
        var withKey = new Dictionary<string, string> { ["LEASEHOLD_API_KEY"] = key };

        var anonymous = await Tool.RunAsync(server, "lock", "--path", "/ci/job", "--ttl", "60");
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Contains("unauthenticated", anonymous.Stderr + anonymous.Stdout, StringComparison.Ordinal);

        using (var locking = Tool.Start(["lock", "--path", "/ci/job", "--ttl", "60", "--json"], server, withKey))
        {
            var locked = await locking.WaitAsync();
            Assert.True(locked.ExitCode == 0, locked.ToString());
        }
        using (var status = Tool.Start(["status", "/ci/job", "--json"], server, withKey))
        {
            var shown = await status.WaitAsync();
            Assert.True(shown.ExitCode == 0, shown.ToString());
            Assert.Contains("/ci/job", shown.Stdout, StringComparison.Ordinal);
        }

        var listed = await Tool.RunWithoutServerAsync("admin", "keys", "list", "--file", KeysFile);
        Assert.Contains("ci-bot", listed.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("sha256", listed.Stdout, StringComparison.Ordinal);

        var revoked = await Tool.RunWithoutServerAsync("admin", "keys", "revoke", "--id", "ci-bot", "--file", KeysFile);
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        var deadline = DateTime.UtcNow + Tool.Timeout;
        ToolResult refused;
        do
        {
            using var again = Tool.Start(["status", "/ci/job", "--json"], server, withKey);
            refused = await again.WaitAsync();
        }
        while (refused.ExitCode == 0 && DateTime.UtcNow < deadline);
        Assert.Contains("invalid-credentials", refused.Stderr, StringComparison.Ordinal);
        await app.StopAsync();
    }

    [Fact]
    public async Task Rotating_replaces_the_hash_and_keeps_the_principal()
    {
        var first = (await Tool.RunWithoutServerAsync("admin", "keys", "create", "--principal", "lab", "--id", "lab1", "--role", "rigs", "--file", KeysFile)).Stdout.Trim();
        var rotated = await Tool.RunWithoutServerAsync("admin", "keys", "rotate", "--id", "lab1", "--file", KeysFile);
        Assert.True(rotated.ExitCode == 0, rotated.ToString());
        var second = rotated.Stdout.Trim();
        Assert.NotEqual(first, second);
        var file = await File.ReadAllTextAsync(KeysFile);
        Assert.Contains(Leasehold.Server.Security.ApiKeys.Hash(second), file, StringComparison.Ordinal);
        Assert.DoesNotContain(Leasehold.Server.Security.ApiKeys.Hash(first), file, StringComparison.Ordinal);
        Assert.Contains("\"lab\"", file, StringComparison.Ordinal);
        Assert.Contains("rigs", file, StringComparison.Ordinal);

        var duplicate = await Tool.RunWithoutServerAsync("admin", "keys", "create", "--principal", "lab", "--id", "lab1", "--file", KeysFile);
        Assert.Equal(64, duplicate.ExitCode);
        var unknown = await Tool.RunWithoutServerAsync("admin", "keys", "rotate", "--id", "nope", "--file", KeysFile);
        Assert.Equal(64, unknown.ExitCode);
        var badId = await Tool.RunWithoutServerAsync("admin", "keys", "create", "--principal", "lab", "--id", "bad_id", "--file", KeysFile);
        Assert.Equal(64, badId.ExitCode);
    }
}
