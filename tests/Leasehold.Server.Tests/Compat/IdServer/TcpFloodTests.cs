using System.Diagnostics;
using System.Net;

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>
/// idserver TCP under a connection flood: connections over <c>MaxConnections</c> get an error line and
/// are closed, idle and trickling ones are closed after <c>IdleSeconds</c>, and new clients are served.
/// </summary>
public sealed class TcpFloodTests : IdServerTestBase
{
    private const string TooMany = "{\"error\": 1, \"message\": \"too many connections\"}\n";
    private const int Limit = 20;
    private const int Flood = 100;

    protected override bool StartsAtOnce => false;

    private IPEndPoint Tcp => Endpoints.Tcp ?? throw new InvalidOperationException("no TCP endpoint");

    [Fact]
    public async Task ConnectionsOverTheLimitAreRefusedWithAnErrorLineAndNewClientsServedAfterTheIdleTimeout()
    {
        await StartAsync(Args("name-0..name-2", $"--Leasehold:IdServer:MaxConnections={Limit}", "--Leasehold:IdServer:IdleSeconds=3"));
        var peers = await RawPeer.FloodAsync(Tcp, Flood);
        try
        {
            var refused = await RawPeer.EventuallyAsync(peers, p => p.Count(x => x.Closed) >= Flood - Limit, TimeSpan.FromSeconds(10));
            Assert.True(refused, $"{peers.Count(p => !p.Closed)} of {Flood} connections still open; the limit is {Limit}");
            Assert.Equal(Limit, peers.Count(p => !p.Closed));
            Assert.All(peers.Where(p => p.Closed), p => Assert.Equal(TooMany, p.Received));

            // The ones let in are served while the others were refused.
            var served = peers.First(p => !p.Closed);
            Assert.True(served.TrySend("{\"action\": \"get\", \"owner\": \"in\", \"expire\": 30}\n"));
            var answered = await RawPeer.EventuallyAsync([served], p => p[0].Received.EndsWith('\n'), TimeSpan.FromSeconds(10));
            Assert.True(answered, $"no reply on an admitted connection: '{served.Received}'");
            Assert.Equal("{\"error\": 0, \"value\": \"name-0\"}\n", served.Received);

            var clock = Stopwatch.StartNew();
            var idleClosed = await RawPeer.EventuallyAsync(peers, p => p.All(x => x.Closed), TimeSpan.FromSeconds(15));
            Assert.True(idleClosed, $"{peers.Count(p => !p.Closed)} idle connections outlived the 3 s idle timeout");
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"idle connections closed after {clock.Elapsed.TotalMilliseconds} ms, before the timeout");
        }
        finally
        {
            peers.ForEach(p => p.Dispose());
        }

        var results = await RunAsync("tcp", Op("get", "after", 30), Op("put", "after"), Op("get", "in", 30));
        Assert.Equal("name-1", Value(results[0]));
        Assert.True(results[1].GetProperty("ok").GetBoolean(), $"put failed: {results[1]}");
        Assert.Equal("name-0", Value(results[2]));
    }

    [Fact]
    public async Task EveryWayAConnectionEndsGivesItsPlaceBack()
    {
        await StartAsync(Args("name-0..name-2", $"--Leasehold:IdServer:MaxConnections={Limit}"));
        // Rounds of a full limit's worth: closed politely, reset, and closed after a request.
        var peers = await RawPeer.FloodAsync(Tcp, Limit);
        for (var round = 0; round < 3; round++)
        {
            var admitted = await RawPeer.EventuallyAsync(peers, p => p.All(x => !x.Closed), TimeSpan.FromSeconds(1));
            Assert.True(admitted && peers.All(p => p.Received == ""), $"round {round}: {peers.Count(p => p.Closed)} of {Limit} refused");
            foreach (var peer in peers)
            {
                switch (round)
                {
                    case 1:
                        peer.Reset();
                        break;
                    case 2:
                        Assert.True(peer.TrySend("{\"action\": \"put\", \"owner\": \"nobody\"}\n"));
                        break;
                }
            }
            if (round == 2)
            {
                Assert.True(await RawPeer.EventuallyAsync(peers, p => p.All(x => x.Received.EndsWith('\n')), TimeSpan.FromSeconds(10)), "unanswered puts");
            }
            peers.ForEach(p => p.Dispose());
            // The server notices the closes asynchronously: wait until a full limit is admitted again, and go on with
            // those connections (closing them too would leave the next round racing the server's notice of it).
            peers = await AdmitFullLimitAsync(round);
        }
        peers.ForEach(p => p.Dispose());
    }

    /// <summary>A full limit of connections, every one admitted: floods again while the server still refuses some.</summary>
    private async Task<List<RawPeer>> AdmitFullLimitAsync(int round)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var probe = await RawPeer.FloodAsync(Tcp, Limit);
            var refused = await RawPeer.EventuallyAsync(probe, p => p.Any(x => x.Closed), TimeSpan.FromMilliseconds(300));
            if (!refused)
            {
                return probe;
            }
            probe.ForEach(p => p.Dispose());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"after round {round} the server still refuses: places were not given back");
        }
    }

    [Fact]
    public async Task AConnectionThatSendsNothingIsClosedAfterTheIdleTimeout()
    {
        await StartAsync(Args("name-0..name-2", "--Leasehold:IdServer:IdleSeconds=1"));
        using var quiet = await RawPeer.ConnectAsync(Tcp);
        using var used = await RawPeer.ConnectAsync(Tcp);
        Assert.True(used.TrySend("{\"action\": \"get\", \"owner\": \"a\", \"expire\": 30}\n"));
        var clock = Stopwatch.StartNew();

        var closed = await RawPeer.EventuallyAsync([quiet, used], p => p.All(x => x.Closed), TimeSpan.FromSeconds(10));

        Assert.True(closed, $"open after 10 s with a 1 s idle timeout: quiet {!quiet.Closed}, used {!used.Closed}");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.8), $"closed after {clock.Elapsed.TotalMilliseconds} ms, before the timeout");
        Assert.Equal("", quiet.Received);
        Assert.Equal("{\"error\": 0, \"value\": \"name-0\"}\n", used.Received);
        // Closing for idleness releases nothing, like any close.
        Assert.Equal("a", (await HoldersAsync("name-0")).Single().GetProperty("owner").GetString());
    }

    [Fact]
    public async Task ALineTrickledAByteAtATimeIsCutOffAtTheIdleTimeout()
    {
        await StartAsync(Args("name-0..name-2", "--Leasehold:IdServer:IdleSeconds=2"));
        using var peer = await RawPeer.ConnectAsync(Tcp);
        var line = "{\"action\": \"get\", \"owner\": \"" + new string('s', 150) + "\", \"expire\": 30}\n";
        var clock = Stopwatch.StartNew();
        var sent = 0;
        // One byte every 100 ms: the whole line would take 18 s; bounded by its length.
        while (sent < line.Length && !peer.Pump() && peer.TrySend(line[sent].ToString()))
        {
            sent++;
            await Task.Delay(100);
        }
        var closed = peer.Closed || await RawPeer.EventuallyAsync([peer], p => p[0].Closed, TimeSpan.FromSeconds(2));

        Assert.True(closed && sent < line.Length, $"the trickling client was not cut off: {sent} bytes sent in {clock.Elapsed.TotalSeconds} s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"cut off only after {clock.Elapsed.TotalSeconds} s with a 2 s idle timeout");
        Assert.Equal("", peer.Received);
        Assert.Equal(0, await LeaseCountAsync());
    }
}
