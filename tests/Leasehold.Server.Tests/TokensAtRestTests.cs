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

    [Fact]
    public async Task The_kept_hash_is_the_first_128_bits_of_the_tokens_SHA_256_on_every_thread_and_every_call()
    {
        // Data directories written before keep these hashes: the value may never change, whatever computes it.
        static UInt128 Expected(UInt128 token) => BinaryPrimitives.ReadUInt128LittleEndian(System.Security.Cryptography.SHA256.HashData(Bytes(token)));
        UInt128[] tokens = [0, 1, UInt128.MaxValue, UInt128.Parse("0123456789abcdef0123456789abcdef", NumberStyles.HexNumber, CultureInfo.InvariantCulture)];
        foreach (var token in tokens.Concat(tokens))
        {
            Assert.Equal(Expected(token), TokenHash.Of(token));
        }
        var others = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => tokens.Select(TokenHash.Of).ToArray()))).WaitAsync(TestServer.Timeout);
        Assert.All(others, hashes => Assert.Equal(tokens.Select(Expected), hashes));
    }

    [Fact]
    public async Task New_tokens_are_never_repeated_across_the_generators_blocks_and_threads()
    {
        // 2,000 per thread crosses several of the per-thread blocks the generator is read in.
        var perThread = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Enumerable.Range(0, 2_000).Select(_ => Tokens.New()).ToArray()))).WaitAsync(TestServer.Timeout);
        var all = perThread.SelectMany(t => t).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        // Random bits: about half of all bits set, and no token empty (a block read before it was filled).
        Assert.DoesNotContain(UInt128.Zero, all);
        var ones = all.Sum(t => (long)UInt128.PopCount(t));
        Assert.InRange(ones / (double)(all.Count * 128), 0.48, 0.52);
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
