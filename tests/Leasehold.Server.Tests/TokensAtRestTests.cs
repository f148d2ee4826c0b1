using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using Leasehold.Core;

namespace Leasehold.Server.Tests;

/// <summary>
/// The data directory keeps only a hash of each lease and session token: a copy of the log or a snapshot
/// must not let anyone renew or end a lease. The holder's token still works after a restart.
/// </summary>
public sealed class TokensAtRestTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "leasehold-at-rest-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Neither_the_log_nor_a_snapshot_holds_a_token_and_the_token_still_works_after_a_restart()
    {
        string leaseToken, sessionToken;
        long leaseId;
        // A snapshot after every few records, so both kinds of file are written.
        string[] args = ["--Leasehold:SnapshotEvery=3"];
        await using (var server = await TestServer.StartAsync(args, _dataDir))
        {
            var api = new Api(server.Client);
            using var opened = await api.SendAsync(HttpMethod.Post, "/v1/sessions", null, "{\"ttl\": 600}");
            var session = await HttpAssert.ReadJsonAsync(opened, HttpStatusCode.Created);
            sessionToken = session.GetProperty("token").GetString()!;
            var lease = await api.AcquireAsync("/rest/a", 600);
            (leaseId, leaseToken) = (lease.Id, lease.Token);
            using (var renewed = await api.SendAsync(HttpMethod.Post, $"/v1/leases/{leaseId}/renew", leaseToken, "{\"ttl\": 900}"))
            {
                Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
            }
            for (var i = 0; i < 4; i++)
            {
                await api.AssertServesAsync($"/rest/filler-{i}");
            }
            await WaitForSnapshotAsync();
        }

        var files = Directory.GetFiles(_dataDir);
        Assert.Contains(files, f => f.EndsWith(".snap", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith(".log", StringComparison.Ordinal));
        var everything = files.SelectMany(File.ReadAllBytes).ToArray();
        foreach (var token in new[] { leaseToken, sessionToken })
        {
            var value = UInt128.Parse(token, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            Assert.True(IndexOf(everything, Bytes(value)) < 0, "a token is stored as it was handed out");
            Assert.True(IndexOf(everything, Encoding.ASCII.GetBytes(token)) < 0, "a token is stored as text");
            // What is stored instead: found, so the search above could have found the token too.
            Assert.True(IndexOf(everything, Bytes(TokenHash.Of(value))) >= 0, "the token's hash is stored");
        }

        await using (var server = await TestServer.StartAsync(args, _dataDir))
        {
            var api = new Api(server.Client);
            using var wrong = await api.SendAsync(HttpMethod.Delete, $"/v1/leases/{leaseId}", TokenHash.Of(UInt128.Parse(leaseToken, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)).ToString("x32", CultureInfo.InvariantCulture));
            await HttpAssert.AssertProblemAsync(wrong, HttpStatusCode.Forbidden, "invalid-token");
            using var released = await api.SendAsync(HttpMethod.Delete, $"/v1/leases/{leaseId}", leaseToken);
            Assert.Equal(HttpStatusCode.NoContent, released.StatusCode);
        }
    }

    private async Task WaitForSnapshotAsync()
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        while (!Directory.EnumerateFiles(_dataDir, "*.snap").Any())
        {
            await Task.Delay(10, cts.Token);
        }
    }

    private static byte[] Bytes(UInt128 value)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(bytes, value);
        return bytes;
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
