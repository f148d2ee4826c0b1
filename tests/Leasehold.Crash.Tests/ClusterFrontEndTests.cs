using System.Net.Sockets;
using System.Text;

namespace Leasehold.Crash.Tests;

/// <summary>Front-ends on every node of a cluster: idserver relayed to the leader, forwarded HTTP answers, event streams through a follower.</summary>
public sealed class ClusterFrontEndTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("leasehold-cluster-idserver-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Every_node_hands_out_distinct_ids_of_the_one_pool_and_takes_them_back()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => ServerProcess.FreePort()).ToArray();
        using var cluster = new ClusterNodes(3, _root, node =>
        [
            "--Leasehold:Pools:0:Path=/ids/a", "--Leasehold:Pools:0:Ids=n-0..n-2",
            "--Leasehold:IdServer:Pool=/ids/a", $"--Leasehold:IdServer:Port={ports[node]}",
        ]);
        await cluster.StartAllAsync(TimeSpan.FromSeconds(60));
        var leader = await cluster.LeaderAsync(TimeSpan.FromSeconds(60));

        var got = new List<string>();
        for (var node = 0; node < 3; node++)
        {
            got.Add(await LineAsync(ports[node], $"{{\"action\": \"get\", \"owner\": \"o{node}\", \"expire\": 60}}"));
        }
        var exhausted = await LineAsync(ports[(leader + 1) % 3], "{\"action\": \"get\", \"owner\": \"o8\", \"expire\": 60}");
        var released = await LineAsync(ports[(leader + 1) % 3], "{\"action\": \"put\", \"owner\": \"o0\"}");
        var again = await LineAsync(ports[(leader + 2) % 3], "{\"action\": \"get\", \"owner\": \"o9\", \"expire\": 60}");

        Assert.All(got, reply => Assert.StartsWith("{\"error\": 0, \"value\": \"n-", reply, StringComparison.Ordinal));
        Assert.Equal(3, got.Distinct().Count());
        Assert.Equal("{\"error\": 0}", released);
        // The pool of three was used up; the id o0 gave back is the one free id, and the next owner gets it.
        Assert.Equal("{\"error\": 1, \"message\": \"id exhausted\"}", exhausted);
        Assert.Equal(got[0], again);
    }

    [Fact]
    public async Task A_forwarded_answer_names_the_leader_and_the_client_goes_there_directly()
    {
        using var cluster = new ClusterNodes(3, _root);
        await cluster.StartAllAsync(TimeSpan.FromSeconds(60));
        var leader = await cluster.LeaderAsync(TimeSpan.FromSeconds(60));
        var follower = (leader + 1) % 3;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var forwarded = await http.GetAsync(new Uri(cluster[follower].BaseAddress, "v1/resources/x"));
        Assert.Equal(cluster[leader].BaseAddress.ToString().TrimEnd('/'), Assert.Single(forwarded.Headers.GetValues("Leasehold-Leader")).TrimEnd('/'));

        // The client starts at the follower; once told where the leader is, it no longer needs the follower.
        using var client = new Leasehold.Client.LeaseholdClient(new Leasehold.Client.LeaseholdClientOptions
        {
            Servers = [cluster[follower].BaseAddress, cluster[leader].BaseAddress],
            Retries = 0,
        });
        await using (await client.AcquireAsync(Leasehold.Client.AcquireOptions.ForPath("/direct/a") with { Ttl = TimeSpan.FromSeconds(30) }))
        {
        }
        cluster.Freeze(follower);
        // Bounded: sent to the frozen follower, the acquire would hang until cancelled.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using (await client.AcquireAsync(Leasehold.Client.AcquireOptions.ForPath("/direct/b") with { Ttl = TimeSpan.FromSeconds(30) }, bound.Token))
        {
        }
        cluster.Thaw(follower);
    }

    [Fact]
    public async Task A_watch_through_a_follower_sees_the_leaders_events_and_goes_on_after_the_leader_is_killed()
    {
        using var cluster = new ClusterNodes(3, _root);
        await cluster.StartAllAsync(TimeSpan.FromSeconds(60));
        var leader = await cluster.LeaderAsync(TimeSpan.FromSeconds(60));
        var (follower, other) = ((leader + 1) % 3, (leader + 2) % 3);
        // The watcher knows the two followers only; the lease takers know every node.
        using var watcher = new Leasehold.Client.LeaseholdClient(new Leasehold.Client.LeaseholdClientOptions
        {
            Servers = [cluster[follower].BaseAddress, cluster[other].BaseAddress],
            RetryTimeout = TimeSpan.FromSeconds(60),
        });
        using var taker = new Leasehold.Client.LeaseholdClient(new Leasehold.Client.LeaseholdClientOptions
        {
            Servers = [.. cluster.Addresses],
            Retries = 100,
            RetryTimeout = TimeSpan.FromSeconds(60),
        });
        await using var events = watcher.WatchAsync("/watched", new Leasehold.Client.WatchOptions { Snapshot = true }).GetAsyncEnumerator();
        var snapshot = await NextAsync(events);
        Assert.True(snapshot.IsSnapshot, snapshot.Json);

        await using var first = await taker.AcquireAsync(Leasehold.Client.AcquireOptions.ForPath("/watched/a") with { Ttl = TimeSpan.FromSeconds(120) });
        var granted = await NextAsync(events);
        Assert.Equal((Leasehold.Protocol.EventTypes.Granted, first.Fence), (granted.Type, granted.Lease?.Fence));

        // The leader dies under the forwarded stream: the follower's answer breaks off and the client resumes on a follower,
        // which forwards to the new leader; the grant there arrives with nothing missed (or after an explicit reset).
        await cluster[leader].KillAsync();
        await using var second = await taker.AcquireAsync(Leasehold.Client.AcquireOptions.ForPath("/watched/b") with { Ttl = TimeSpan.FromSeconds(120) });
        Assert.True(second.Fence > first.Fence, $"fences {first.Fence} then {second.Fence}");
        var after = new List<Leasehold.Client.LeaseholdEvent>();
        while (after.Count == 0 || after[^1].Type != Leasehold.Protocol.EventTypes.Granted)
        {
            Assert.True(after.Count < 10, string.Join(", ", after.Select(e => $"{e.Type}@{e.Revision}")));
            after.Add(await NextAsync(events));
            if (after[^1].IsSnapshot && after[^1].Holders!.Any(l => l.Paths.SequenceEqual(["/watched/b"])))
            {
                // Told explicitly (a reset, then the state): the second lease is in it.
                Assert.Contains(after, e => e.IsReset);
                return;
            }
        }
        Assert.Equal(second.Fence, after[^1].Lease?.Fence);
        if (after.Any(e => e.IsReset))
        {
            return;
        }
        // No gap: what the resumed stream gave is what the new leader's history holds under the prefix after the first grant.
        var history = new List<Leasehold.Client.LeaseholdEvent>();
        await using (var replay = taker.WatchAsync("/watched", new Leasehold.Client.WatchOptions { After = granted.Revision }).GetAsyncEnumerator())
        {
            while (history.Count == 0 || (history[^1].Revision < after[^1].Revision && !history[^1].IsReset))
            {
                Assert.True(history.Count < 10, string.Join(", ", history.Select(e => $"{e.Type}@{e.Revision}")));
                history.Add(await NextAsync(replay));
            }
        }
        if (!history[^1].IsReset)
        {
            Assert.Equal(history.Select(e => $"{e.Type}@{e.Revision}"), after.Select(e => $"{e.Type}@{e.Revision}"));
        }
    }

    /// <summary>The next event, bounded.</summary>
    private static async Task<Leasehold.Client.LeaseholdEvent> NextAsync(IAsyncEnumerator<Leasehold.Client.LeaseholdEvent> events)
    {
        Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60)), "the enumeration ended");
        return events.Current;
    }

    private static async Task<string> LineAsync(int port, string request)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync("127.0.0.1", port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + "\n"), timeout.Token);
        var reply = new StringBuilder();
        var buffer = new byte[256];
        while (!reply.ToString().Contains('\n', StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            Assert.True(read > 0, $"the connection closed after '{reply}'");
            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return reply.ToString().TrimEnd('\n');
    }
}
