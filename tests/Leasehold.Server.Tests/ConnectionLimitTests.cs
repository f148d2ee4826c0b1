using System.Diagnostics;
using System.Net;
using System.Text;
using Leasehold.Protocol;

namespace Leasehold.Server.Tests;

/// <summary>
/// HTTP under a connection flood: connections over <c>MaxConnections</c> are closed at once, idle and
/// trickling ones are closed by the timeouts, and the server goes on answering; long waits are not cut.
/// </summary>
public sealed class ConnectionLimitTests
{
    private const int Limit = 50;
    private const int Flood = 200;

    [Fact]
    public async Task ConnectionsOverTheLimitAreClosedAndTheServerServesOnceIdleOnesTimeOut()
    {
        await using var server = await TestServer.StartAsync(
            [$"--Leasehold:MaxConnections={Limit}", "--Leasehold:KeepAliveSeconds=4"]);
        var endPoint = RawPeer.EndPointOf(server.BaseAddress);
        var peers = await RawPeer.FloodAsync(endPoint, Flood);
        try
        {
            // The ones over the limit are closed as soon as they are accepted; the rest stay open (idle)
            // until the keep-alive timeout, 4 s on a 1 s timer, well after this check.
            var refused = await RawPeer.EventuallyAsync(peers, p => p.Count(x => x.Closed) >= Flood - Limit, TimeSpan.FromSeconds(10));
            var open = peers.Count(p => !p.Closed);
            Assert.True(refused, $"{open} of {Flood} idle connections still open; the limit is {Limit}");
            Assert.InRange(open, 1, Limit);
            Assert.All(peers.Where(p => p.Closed), p => Assert.Equal("", p.Received));

            // The limit is taken (by these and the warm-up client's kept connection): a new client's
            // request is closed unanswered, which is what a client sees.
            using (var refusedClient = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout })
            {
                await Assert.ThrowsAsync<HttpRequestException>(() => refusedClient.GetAsync(new Uri("/healthz", UriKind.Relative)));
            }

            var idleClosed = await RawPeer.EventuallyAsync(peers, p => p.All(x => x.Closed), TimeSpan.FromSeconds(15));
            Assert.True(idleClosed, $"{peers.Count(p => !p.Closed)} idle connections outlived the keep-alive timeout");
        }
        finally
        {
            peers.ForEach(p => p.Dispose());
        }

        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };
        using var acquired = await client.PostAsync(new Uri("/v1/leases", UriKind.Relative), Json("""{"path":"/after-flood","owner":"A"}"""));
        var lease = await HttpAssert.ReadJsonAsync(acquired, HttpStatusCode.Created);
        using var release = new HttpRequestMessage(HttpMethod.Delete, new Uri($"/v1/leases/{lease.GetProperty("id").GetInt64()}", UriKind.Relative));
        release.Headers.TryAddWithoutValidation(Headers.Token, lease.GetProperty("token").GetString());
        using var released = await client.SendAsync(release);
        Assert.Equal(HttpStatusCode.NoContent, released.StatusCode);
    }

    [Fact]
    public async Task AnIdleKeptAliveConnectionIsClosedAfterTheKeepAliveTimeout()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:KeepAliveSeconds=1"]);
        using var peer = await RawPeer.ConnectAsync(RawPeer.EndPointOf(server.BaseAddress));
        Assert.True(peer.TrySend("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"));
        var answered = await RawPeer.EventuallyAsync([peer], p => p[0].Received.Contains("\"ok\"", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.True(answered, $"no answer to GET /healthz: {peer.Received}");
        var clock = Stopwatch.StartNew();

        var closed = await RawPeer.EventuallyAsync([peer], p => p[0].Closed, TimeSpan.FromSeconds(10));

        Assert.True(closed, "the idle connection was still open after 10 s with a 1 s keep-alive timeout");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.5), $"closed after {clock.Elapsed.TotalMilliseconds} ms, before the timeout");
    }

    [Fact]
    public async Task HeadersTrickledAByteAtATimeAreCutOffByTheHeadersTimeout()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:RequestHeadersSeconds=2"]);
        using var peer = await RawPeer.ConnectAsync(RawPeer.EndPointOf(server.BaseAddress));
        var request = "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: " + new string('x', 200) + "\r\n\r\n";
        var clock = Stopwatch.StartNew();
        var sent = 0;
        // One byte every 100 ms: the whole header would take 20 s; bounded by its length.
        while (sent < request.Length && !peer.Pump() && peer.TrySend(request[sent].ToString()))
        {
            sent++;
            await Task.Delay(100);
        }
        var closed = peer.Closed || await RawPeer.EventuallyAsync([peer], p => p[0].Closed, TimeSpan.FromSeconds(2));

        Assert.True(closed && sent < request.Length, $"the trickling client was not cut off: {sent} bytes sent in {clock.Elapsed.TotalSeconds} s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"cut off only after {clock.Elapsed.TotalSeconds} s with a 2 s headers timeout");
        // Kestrel answers the half-sent request with 408 before it closes.
        Assert.StartsWith("HTTP/1.1 408 Request Timeout\r\n", peer.Received, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyTrickledBelowTheMinimumRateIsCutOffAfterTheGracePeriod()
    {
        await using var server = await TestServer.StartAsync();
        using var peer = await RawPeer.ConnectAsync(RawPeer.EndPointOf(server.BaseAddress));
        var body = """{"path":"/trickle","owner":"slow","ttl":30}""" + new string(' ', 150);
        Assert.True(peer.TrySend($"POST /v1/leases HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n"));
        var clock = Stopwatch.StartNew();
        var sent = 0;
        // 10 bytes/s, far below 240 bytes/s: the whole body would take 19 s; bounded by its length.
        while (sent < body.Length && !peer.Pump() && peer.TrySend(body[sent].ToString()))
        {
            sent++;
            await Task.Delay(100);
        }
        var closed = peer.Closed || await RawPeer.EventuallyAsync([peer], p => p[0].Closed, TimeSpan.FromSeconds(3));

        Assert.True(closed && sent < body.Length, $"the trickling body was not cut off: {sent} bytes sent in {clock.Elapsed.TotalSeconds} s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"cut off only after {clock.Elapsed.TotalSeconds} s with a 5 s grace period");
        Assert.DoesNotContain("201 Created", peer.Received, StringComparison.Ordinal);
        using var response = await server.Client.GetAsync(new Uri("/v1/resources/trickle", UriKind.Relative));
        var resource = await HttpAssert.ReadJsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(0, resource.GetProperty("holders").GetArrayLength());
    }

    [Fact]
    public async Task AWaitLongerThanEveryTimeoutIsAnsweredNormally()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:KeepAliveSeconds=1", "--Leasehold:RequestHeadersSeconds=1"]);
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };
        using var first = await client.PostAsync(new Uri("/v1/leases", UriKind.Relative), Json("""{"path":"/long","owner":"A"}"""));
        await HttpAssert.ReadJsonAsync(first, HttpStatusCode.Created);
        var clock = Stopwatch.StartNew();

        // The response sends nothing for 3 s: no timeout or data rate may close the connection meanwhile.
        using var waited = await client.PostAsync(new Uri("/v1/leases", UriKind.Relative), Json("""{"path":"/long","owner":"B","wait":3}"""));

        await HttpAssert.AssertProblemAsync(waited, HttpStatusCode.Conflict, "locked");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.9), $"answered after {clock.Elapsed.TotalSeconds} s, before the wait ran out");
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
