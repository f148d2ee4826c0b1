using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Leasehold.Crash.Tests;

/// <summary>
/// What docs/cluster.md promises, through real HTTP on real server processes: any node serves the HTTP API,
/// Locker and gocept.lockd alike; every node reports the same view in /readyz and /v1/cluster; a minority
/// serves nothing and says so (503 no-leader); a waiter on a dying leader gets an answer and can queue again;
/// sessions get their grace; a wiped node catches up from a snapshot; members are added and removed over HTTP;
/// a data directory of the other kind is refused. Tests that leave the cluster as they found it share one
/// three-node cluster; tests that kill nodes start their own.
/// </summary>
public sealed class ClusterTests(SharedCluster shared, ITestOutputHelper output) : IClassFixture<SharedCluster>, IDisposable
{
    internal static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Elections take about a second once the Raft request timeout is below the election timeout; at the defaults
    /// (1000 ms against 400 ms) a frozen leader stalls them for 8 to 10 s (docs/operations.md, RequestTimeoutMs).
    /// </summary>
    private static readonly TimeSpan FrozenLeaderReplaced = TimeSpan.FromSeconds(6);

    private readonly string _root = Directory.CreateTempSubdirectory("leasehold-ctests-").FullName;

    public void Dispose() => SharedCluster.DeleteQuietly(_root);

    // ---- 1. one lease, every node ----

    [Fact]
    public async Task A_lease_taken_through_a_follower_is_the_same_lease_through_every_node()
    {
        var nodes = shared.Nodes;
        var leader = await StableAsync(nodes);
        var (f1, f2) = Followers(nodes, leader);
        using var http = Http();
        var path = $"/visible/{Guid.NewGuid():N}";

        var taken = await SendAsync(http, nodes[f1], HttpMethod.Post, "v1/leases", new { path, owner = "via-follower", ttl = 120 });
        Assert.True(taken.Status == HttpStatusCode.Created, $"acquire through follower {f1}: {taken}");
        var id = taken.Json.GetProperty("id").GetInt64();
        var token = taken.Json.GetProperty("token").GetString()!;
        var fence = taken.Json.GetProperty("fence").GetInt64();

        for (var i = 0; i < nodes.Count; i++)
        {
            var read = await SendAsync(http, nodes[i], HttpMethod.Get, $"v1/leases/{id}");
            Assert.True(read.Status == HttpStatusCode.OK, $"read lease {id} through node {i}: {read}");
            Assert.Equal(fence, read.Json.GetProperty("fence").GetInt64());
            Assert.Equal("via-follower", read.Json.GetProperty("owner").GetString());
            Assert.Equal(path, read.Json.GetProperty("paths")[0].GetString());
            var resource = await SendAsync(http, nodes[i], HttpMethod.Get, $"v1/resources{path}");
            Assert.True(resource.Status == HttpStatusCode.OK, $"resource {path} through node {i}: {resource}");
            Assert.Equal(id, Assert.Single(resource.Json.GetProperty("holders").EnumerateArray()).GetProperty("id").GetInt64());
        }

        // Every node's own state machine applied it, not only the leader's.
        var commit = (await ReadyAsync(http, nodes[leader])).Cluster!.Value.GetProperty("commitIndex").GetInt64();
        await UntilAsync(async () =>
        {
            for (var i = 0; i < nodes.Count; i++)
            {
                if ((await ReadyAsync(http, nodes[i])).Cluster is not { } view || view.GetProperty("appliedIndex").GetInt64() < commit)
                {
                    return false;
                }
            }
            return true;
        }, Deadline, $"every node applied entry {commit}");

        var released = await SendAsync(http, nodes[f2], HttpMethod.Delete, $"v1/leases/{id}", token: token);
        Assert.True(released.Status == HttpStatusCode.NoContent, $"release through follower {f2}: {released}");
        for (var i = 0; i < nodes.Count; i++)
        {
            var gone = await SendAsync(http, nodes[i], HttpMethod.Get, $"v1/leases/{id}");
            Assert.True(gone.Status == HttpStatusCode.NotFound, $"released lease {id} through node {i}: {gone}");
            Assert.Equal("not-found", gone.Json.GetProperty("code").GetString());
        }

        // Fences grow whichever node a grant is asked of and whichever node releases it.
        var last = fence;
        for (var round = 0; round < 6; round++)
        {
            var next = await SendAsync(http, nodes[round % 3], HttpMethod.Post, "v1/leases", new { path, owner = $"round-{round}" });
            Assert.True(next.Status == HttpStatusCode.Created, $"round {round} through node {round % 3}: {next}");
            var nextFence = next.Json.GetProperty("fence").GetInt64();
            Assert.True(nextFence > last, $"round {round}: fence {nextFence} after {last}");
            last = nextFence;
            var gone = await SendAsync(http, nodes[(round + 1) % 3], HttpMethod.Delete, $"v1/leases/{next.Json.GetProperty("id").GetInt64()}",
                token: next.Json.GetProperty("token").GetString());
            Assert.True(gone.Status == HttpStatusCode.NoContent, $"round {round} release through node {(round + 1) % 3}: {gone}");
        }
    }

    // ---- 2. readiness and status ----

    [Fact]
    public async Task Every_node_reports_the_same_leader_term_and_members_and_no_lag_once_idle()
    {
        var nodes = shared.Nodes;
        await StableAsync(nodes);
        using var http = Http();
        JsonElement[] views = [];
        // Idle: every node ready, one term, one leader, and everything committed applied everywhere.
        await UntilAsync(async () =>
        {
            var ready = new List<JsonElement>();
            for (var i = 0; i < nodes.Count; i++)
            {
                var (status, view) = await ReadyAsync(http, nodes[i]);
                if (status != HttpStatusCode.OK || view is null)
                {
                    return false;
                }
                ready.Add(view.Value);
            }
            views = [.. ready];
            // The lag is against the leader's commit index, which every node asked the leader for (the leader knows its own).
            return views.All(v => v.GetProperty("leaderCommitIndex").ValueKind == JsonValueKind.Number && v.GetProperty("lag").ValueKind == JsonValueKind.Number
                    && v.GetProperty("lag").GetInt64() == 0
                    && v.GetProperty("leaderCommitIndex").GetInt64() == v.GetProperty("appliedIndex").GetInt64())
                && views.Select(v => v.GetProperty("leaderCommitIndex").GetInt64()).Distinct().Count() == 1
                && views.Select(v => v.GetProperty("term").GetInt64()).Distinct().Count() == 1
                && views.Select(v => v.GetProperty("appliedIndex").GetInt64()).Distinct().Count() == 1
                && views.Count(v => v.GetProperty("role").GetString() == "leader") == 1;
        }, Deadline, "an idle cluster with one leader");

        var leaderIndex = Array.FindIndex(views, v => v.GetProperty("role").GetString() == "leader");
        var leaderEndpoint = views[leaderIndex].GetProperty("node").GetString();
        Assert.Equal($"127.0.0.1:{nodes.RaftPorts[leaderIndex]}", leaderEndpoint);
        var expectedMembers = nodes.RaftPorts.Select(p => $"127.0.0.1:{p}").Order(StringComparer.Ordinal).ToArray();
        for (var i = 0; i < nodes.Count; i++)
        {
            var view = views[i];
            Assert.Equal($"127.0.0.1:{nodes.RaftPorts[i]}", view.GetProperty("node").GetString());
            Assert.Equal(i == leaderIndex ? "leader" : "follower", view.GetProperty("role").GetString());
            Assert.Equal(leaderEndpoint, view.GetProperty("leader").GetString());
            Assert.Equal(nodes[leaderIndex].BaseAddress.ToString().TrimEnd('/'), view.GetProperty("leaderUrl").GetString()!.TrimEnd('/'));
            Assert.Equal(view.GetProperty("commitIndex").GetInt64(), view.GetProperty("appliedIndex").GetInt64());
            var members = view.GetProperty("members").EnumerateArray().ToList();
            Assert.Equal(expectedMembers, members.Select(m => m.GetProperty("endpoint").GetString()).Order(StringComparer.Ordinal).ToArray());
            Assert.Equal(leaderEndpoint, Assert.Single(members, m => m.GetProperty("leader").GetBoolean()).GetProperty("endpoint").GetString());
            Assert.Equal(view.GetProperty("node").GetString(), Assert.Single(members, m => m.GetProperty("local").GetBoolean()).GetProperty("endpoint").GetString());

            // /v1/cluster is this node's own answer (never forwarded), the same view.
            var status = await SendAsync(http, nodes[i], HttpMethod.Get, "v1/cluster");
            Assert.True(status.Status == HttpStatusCode.OK, $"GET /v1/cluster on node {i}: {status}");
            foreach (var field in (string[])["node", "role", "leader", "leaderUrl"])
            {
                Assert.Equal(view.GetProperty(field).GetString(), status.Json.GetProperty(field).GetString());
            }
            Assert.Equal(view.GetProperty("term").GetInt64(), status.Json.GetProperty("term").GetInt64());
            Assert.Equal(expectedMembers, status.Json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("endpoint").GetString()).Order(StringComparer.Ordinal).ToArray());
        }
    }

    // ---- 3. compatibility front-ends through a follower ----

    [Fact]
    public async Task Locker_and_lockd_work_through_followers()
    {
        var nodes = shared.Nodes;
        var leader = await StableAsync(nodes);
        var (f1, f2) = Followers(nodes, leader);
        using var http = Http();
        var path = $"/locker/{Guid.NewGuid():N}";

        var granted = await SendAsync(http, nodes[f1], HttpMethod.Get, $"canhaz{path}?id=alice");
        Assert.True(granted.Status == HttpStatusCode.OK, $"canhaz through follower {f1}: {granted}");
        Assert.True(granted.Json.GetProperty("ok").GetBoolean(), granted.ToString());
        var token = granted.Json.GetProperty("token").GetString()!;
        Assert.Equal("""{"lockedBy": "alice"}""", (await SendAsync(http, nodes[f2], HttpMethod.Get, $"dohaz{path}")).Body);
        Assert.Equal("""{"ok": false, "lockedBy": "alice"}""", (await SendAsync(http, nodes[leader], HttpMethod.Get, $"canhaz{path}?id=bob")).Body);
        var held = await SendAsync(http, nodes[f2], HttpMethod.Get, $"v1/resources{path}");
        Assert.Equal("alice", Assert.Single(held.Json.GetProperty("holders").EnumerateArray()).GetProperty("owner").GetString());
        Assert.Equal("""{"ok": true}""", (await SendAsync(http, nodes[f2], HttpMethod.Get, $"nowant{path}?token={token}")).Body);
        Assert.Equal("""{"lockedBy": null}""", (await SendAsync(http, nodes[f1], HttpMethod.Get, $"dohaz{path}")).Body);

        var resource = $"res-{Guid.NewGuid():N}";
        var locked = await XmlRpcAsync(http, nodes[f1], "lock", resource, "client1");
        Assert.True(locked.Status == HttpStatusCode.OK && locked.Body.Contains("<nil/>", StringComparison.Ordinal) && !locked.Body.Contains("<fault>", StringComparison.Ordinal),
            $"lock through follower {f1}: {locked}");
        var lockdLease = await SendAsync(http, nodes[leader], HttpMethod.Get, $"v1/resources/lockd/{resource}");
        Assert.Equal("client1", Assert.Single(lockdLease.Json.GetProperty("holders").EnumerateArray()).GetProperty("owner").GetString());
        var refused = await XmlRpcAsync(http, nodes[f2], "lock", resource, "client2");
        Assert.Contains("<fault>", refused.Body, StringComparison.Ordinal);
        Assert.Contains("Resource already locked by 'client1'", refused.Body, StringComparison.Ordinal);
        var unlocked = await XmlRpcAsync(http, nodes[f2], "unlock", resource, "client1");
        Assert.True(unlocked.Body.Contains("<nil/>", StringComparison.Ordinal) && !unlocked.Body.Contains("<fault>", StringComparison.Ordinal), $"unlock through follower {f2}: {unlocked}");
        var free = await SendAsync(http, nodes[f1], HttpMethod.Get, $"v1/resources/lockd/{resource}");
        Assert.Empty(free.Json.GetProperty("holders").EnumerateArray());
    }

    // ---- 7. membership over HTTP ----

    [Fact]
    public async Task A_member_is_added_and_removed_over_http_and_bad_endpoints_are_refused()
    {
        var nodes = shared.Nodes;
        var leader = await StableAsync(nodes);
        var (f1, f2) = Followers(nodes, leader);
        using var http = Http();

        // A host name that cannot be looked up (RFC 6761 reserves .invalid) is refused too, looked up without blocking the request thread.
        foreach (var bad in (string[])["not-an-endpoint", "127.0.0.1:99999", "127.0.0.1:", "", "no-such-host.invalid:7000"])
        {
            var answer = await SendAsync(http, nodes[f1], HttpMethod.Post, "v1/cluster/members", new { endpoint = bad });
            AssertProblem(answer, HttpStatusCode.BadRequest, "invalid-argument");
        }
        AssertProblem(await SendAsync(http, nodes[f2], HttpMethod.Delete, "v1/cluster/members/not-an-endpoint"), HttpStatusCode.BadRequest, "invalid-argument");

        var raft4 = ServerProcess.FreePort();
        var fourthEndpoint = $"127.0.0.1:{raft4}";
        var members = string.Join(',', nodes.RaftPorts.Select(p => $"127.0.0.1:{p}").Append(fourthEndpoint));
        using var fourth = new ServerProcess(Path.Combine(_root, "node4"), "--cluster-node", fourthEndpoint, "--cluster-members", members)
        {
            FixedPort = ServerProcess.FreePort(),
        };
        try
        {
            await fourth.StartAsync(Deadline);
            var added = await SendAsync(http, nodes[f1], HttpMethod.Post, "v1/cluster/members", new { endpoint = fourthEndpoint }, timeout: TimeSpan.FromSeconds(45));
            Assert.True(added.Status == HttpStatusCode.OK, $"add {fourthEndpoint} through follower {f1}: {added}");
            Assert.Equal(4, added.Json.GetProperty("members").GetArrayLength());
            // Every node learns it, and the new node follows the same leader.
            await UntilAsync(async () => (await MembersAsync(http, nodes)).All(m => m.Count == 4), Deadline, "every node lists 4 members");
            await UntilAsync(async () => (await ReadyAsync(http, fourth)).Cluster is { } view
                && view.GetProperty("role").GetString() == "follower" && view.GetProperty("lag") is { ValueKind: JsonValueKind.Number } lag && lag.GetInt64() == 0
                && view.GetProperty("leader").GetString() == $"127.0.0.1:{nodes.RaftPorts[leader]}", Deadline, "the 4th node follows");
            AssertProblem(await SendAsync(http, nodes[f2], HttpMethod.Post, "v1/cluster/members", new { endpoint = fourthEndpoint }), HttpStatusCode.BadRequest, "invalid-argument");

            var removed = await SendAsync(http, nodes[f2], HttpMethod.Delete, $"v1/cluster/members/{fourthEndpoint}", timeout: TimeSpan.FromSeconds(45));
            Assert.True(removed.Status == HttpStatusCode.OK, $"remove {fourthEndpoint} through follower {f2}: {removed}");
            Assert.Equal(3, removed.Json.GetProperty("members").GetArrayLength());
        }
        finally
        {
            await fourth.KillAsync();
        }
        await UntilAsync(async () => (await MembersAsync(http, nodes)).All(m => m.Count == 3 && !m.Contains(fourthEndpoint)), Deadline, "every node lists 3 members");
        AssertProblem(await SendAsync(http, nodes[f1], HttpMethod.Delete, $"v1/cluster/members/{fourthEndpoint}"), HttpStatusCode.NotFound, "not-found");
        // The cluster still serves.
        var after = await SendAsync(http, nodes[f1], HttpMethod.Post, "v1/leases", new { path = $"/members/{Guid.NewGuid():N}", ttl = 5 });
        Assert.True(after.Status == HttpStatusCode.Created, $"acquire after the membership changes: {after}");
    }

    /// <summary>
    /// A membership change is the cluster's, kept in each node's data directory: nodes restarted with the settings they
    /// were first started with (the old member list) keep the members the cluster agreed on since. Otherwise two of
    /// four nodes, each counting three members, would make a majority of their own.
    /// </summary>
    [Fact]
    public async Task A_membership_change_outlives_restarting_every_node_with_its_old_settings()
    {
        var root = Path.Combine(_root, "members-kept");
        using var nodes = new ClusterNodes(3, root);
        await nodes.StartAllAsync(Deadline);
        var leader = await StableAsync(nodes);
        using var http = Http();
        var fourthEndpoint = $"127.0.0.1:{ServerProcess.FreePort()}";
        var four = string.Join(',', nodes.RaftPorts.Select(p => $"127.0.0.1:{p}").Append(fourthEndpoint));
        using var fourth = new ServerProcess(Path.Combine(root, "node4"), "--cluster-node", fourthEndpoint, "--cluster-members", four)
        {
            FixedPort = ServerProcess.FreePort(),
        };
        await fourth.StartAsync(Deadline);
        var added = await SendAsync(http, nodes[leader], HttpMethod.Post, "v1/cluster/members", new { endpoint = fourthEndpoint }, timeout: TimeSpan.FromSeconds(45));
        Assert.True(added.Status == HttpStatusCode.OK, $"add {fourthEndpoint}: {added}");
        await UntilAsync(async () => (await MembersAsync(http, nodes)).All(m => m.Count == 4), Deadline, "every node lists 4 members");

        // Every node down; the first back alone lists the four before any leader has spoken to it.
        await fourth.KillAsync();
        for (var i = 0; i < nodes.Count; i++)
        {
            await nodes[i].KillAsync();
        }
        await nodes[0].StartAsync(Deadline);
        var alone = await SendAsync(http, nodes[0], HttpMethod.Get, "v1/cluster");
        Assert.True(alone.Status == HttpStatusCode.OK, $"the view of a node alone: {alone}");
        Assert.Contains(fourthEndpoint, alone.Json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("endpoint").GetString()));
        Assert.Equal(4, alone.Json.GetProperty("members").GetArrayLength());

        // Two of four are no majority: no leader within several election timeouts (400-800 ms each).
        await nodes[1].StartAsync(Deadline);
        var watched = Stopwatch.StartNew();
        while (watched.Elapsed < TimeSpan.FromSeconds(4))
        {
            foreach (var i in (int[])[0, 1])
            {
                Assert.NotEqual("leader", await nodes.RoleAsync(http, i));
            }
            await Task.Delay(100);
        }

        // Three of four are: the cluster serves, and removing the dead fourth is kept the same way.
        await nodes[2].StartAsync(Deadline);
        leader = await nodes.LeaderAsync(Deadline);
        var removed = await SendAsync(http, nodes[leader], HttpMethod.Delete, $"v1/cluster/members/{fourthEndpoint}", timeout: TimeSpan.FromSeconds(45));
        Assert.True(removed.Status == HttpStatusCode.OK, $"remove {fourthEndpoint}: {removed}");
        await UntilAsync(async () => (await MembersAsync(http, nodes)).All(m => m.Count == 3), Deadline, "every node lists 3 members");
        await nodes[2].KillAsync();
        await nodes[2].StartAsync(Deadline);
        var back = await SendAsync(http, nodes[2], HttpMethod.Get, "v1/cluster");
        Assert.DoesNotContain(fourthEndpoint, back.Json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("endpoint").GetString()));
        var after = await GrantThroughAnyAsync(http, nodes, new { path = $"/members/{Guid.NewGuid():N}", ttl = 5 });
        Assert.True(after.GetProperty("fence").GetInt64() > 0);
    }

    /// <summary>
    /// Five nodes from settings alone: they elect one leader, and with any two of them killed (the leader among them)
    /// the other three grant, keep every lease acknowledged before with its fence, and give larger fences.
    /// </summary>
    [Fact]
    public async Task Five_nodes_serve_with_two_of_them_down_and_lose_nothing()
    {
        using var nodes = new ClusterNodes(5, Path.Combine(_root, "five"));
        // Five processes starting at once on a small shared machine: twice the usual bound.
        await nodes.StartAllAsync(Deadline * 2);
        var leader = await nodes.LeaderAsync(Deadline * 2);
        using var http = Http();
        var kept = new List<(long Id, long Fence)>();
        for (var i = 0; i < 5; i++)
        {
            var taken = await SendAsync(http, nodes[i], HttpMethod.Post, "v1/leases", new { path = $"/five/{i}", owner = "before", ttl = 600 });
            Assert.True(taken.Status == HttpStatusCode.Created, $"acquire through node {i}: {taken}");
            kept.Add((taken.Json.GetProperty("id").GetInt64(), taken.Json.GetProperty("fence").GetInt64()));
        }
        var other = (leader + 1) % 5;
        await nodes[leader].KillAsync();
        await nodes[other].KillAsync();

        var fresh = await GrantThroughAnyAsync(http, nodes, new { path = "/five/after", owner = "after", ttl = 60 });
        Assert.True(fresh.GetProperty("fence").GetInt64() > kept.Max(k => k.Fence), $"a fence after two nodes died: {fresh}");
        foreach (var survivor in Enumerable.Range(0, 5).Where(i => i != leader && i != other))
        {
            foreach (var (id, fence) in kept)
            {
                var lease = await SendAsync(http, nodes[survivor], HttpMethod.Get, $"v1/leases/{id}");
                Assert.True(lease.Status == HttpStatusCode.OK, $"lease {id} through node {survivor}: {lease}");
                Assert.Equal(fence, lease.Json.GetProperty("fence").GetInt64());
            }
        }
    }

    // ---- 4. a minority serves nothing ----

    [Fact]
    public async Task A_survivor_of_two_killed_nodes_answers_no_leader_and_nothing_acknowledged_is_lost()
    {
        using var nodes = new ClusterNodes(3, Path.Combine(_root, "minority"));
        await nodes.StartAllAsync(Deadline);
        await StableAsync(nodes);
        using var http = Http();
        var kept = new List<(long Id, long Fence, string Path)>();
        for (var i = 0; i < 6; i++)
        {
            var path = $"/kept/{i}";
            var taken = await SendAsync(http, nodes[i % 3], HttpMethod.Post, "v1/leases", new { path, owner = "before", ttl = 600 });
            Assert.True(taken.Status == HttpStatusCode.Created, $"acquire {path} through node {i % 3}: {taken}");
            kept.Add((taken.Json.GetProperty("id").GetInt64(), taken.Json.GetProperty("fence").GetInt64(), path));
        }
        var leader = await StableAsync(nodes);
        var (f1, f2) = Followers(nodes, leader);
        await nodes[f1].KillAsync();
        await nodes[f2].KillAsync();

        // The survivor was the leader: without a majority it must not grant anything, and it must say why.
        Answer refusal = default;
        var attempts = 0;
        await UntilAsync(async () =>
        {
            attempts++;
            try
            {
                refusal = await SendOnceAsync(http, nodes[leader], HttpMethod.Post, "v1/leases", new { path = $"/minority/{attempts}", ttl = 5 }, timeout: TimeSpan.FromSeconds(10));
            }
            catch (TaskCanceledException)
            {
                return false;
            }
            Assert.True(refusal.Status != HttpStatusCode.Created, $"a leader without its majority granted a lease: {refusal}");
            return refusal.Status == HttpStatusCode.ServiceUnavailable;
        }, Deadline, "the survivor refuses with 503");
        AssertProblem(refusal, HttpStatusCode.ServiceUnavailable, "no-leader");
        Assert.Equal("1", refusal.RetryAfter);
        Assert.Equal(1, refusal.Json.GetProperty("retryAfter").GetInt32());
        var read = await SendOnceAsync(http, nodes[leader], HttpMethod.Get, $"v1/leases/{kept[0].Id}", timeout: TimeSpan.FromSeconds(10));
        AssertProblem(read, HttpStatusCode.ServiceUnavailable, "no-leader");
        Assert.Equal("1", read.RetryAfter);
        var locker = await SendOnceAsync(http, nodes[leader], HttpMethod.Get, "canhaz/minority/locker?id=x", timeout: TimeSpan.FromSeconds(10));
        AssertProblem(locker, HttpStatusCode.ServiceUnavailable, "no-leader");
        await UntilAsync(async () => (await ReadyAsync(http, nodes[leader])).Status == HttpStatusCode.ServiceUnavailable, Deadline, "/readyz 503 on the survivor");
        var (readyStatus, readyView) = await ReadyAsync(http, nodes[leader]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyStatus);
        Assert.NotEqual("leader", readyView!.Value.GetProperty("role").GetString());
        // No leader to ask: how far behind this node is cannot be known, and the view says so rather than 0.
        Assert.True(JsonValueKind.Null == readyView.Value.GetProperty("leaderCommitIndex").ValueKind, readyView.Value.ToString());
        Assert.Equal(JsonValueKind.Null, readyView.Value.GetProperty("lag").ValueKind);

        // One node back: a majority again, and everything acknowledged before is there, with its fence.
        await nodes[f1].StartAsync(Deadline);
        await nodes.LeaderAsync(Deadline);
        var fresh = await GrantThroughAnyAsync(http, nodes, new { path = "/after/minority", owner = "after", ttl = 60 });
        Assert.True(fresh.GetProperty("fence").GetInt64() > kept.Max(k => k.Fence), $"a fence after the outage: {fresh}");
        foreach (var node in (int[])[leader, f1])
        {
            foreach (var (id, fence, path) in kept)
            {
                var lease = await SendAsync(http, nodes[node], HttpMethod.Get, $"v1/leases/{id}");
                Assert.True(lease.Status == HttpStatusCode.OK, $"lease {id} on {path} through node {node}: {lease}");
                Assert.Equal(fence, lease.Json.GetProperty("fence").GetInt64());
            }
        }
    }

    /// <summary>
    /// The leader keeps several Raft entries in flight (docs/cluster.md). With both followers frozen, the entries it
    /// appends cannot commit: none of the requests in them may be answered as granted, nor a read of what they
    /// decided; they fail with no-leader once the leader learns it lost its majority. Afterwards every grant
    /// acknowledged before is still there with its fence, and a retry of each refused acquire with its key gets
    /// exactly one lease (the first try's, if it was kept after all): nothing granted twice.
    /// </summary>
    [Fact]
    public async Task Entries_in_flight_when_the_majority_is_lost_are_never_answered_as_granted_and_nothing_acknowledged_is_lost()
    {
        using var nodes = new ClusterNodes(3, Path.Combine(_root, "inflight"), "--Leasehold:Cluster:RequestTimeoutMs=300");
        await nodes.StartAllAsync(Deadline);
        var leader = await StableAsync(nodes);
        var (f1, f2) = Followers(nodes, leader);
        using var http = Http();

        // Many at once, so that they are decided in several drains and several entries are in flight together.
        var before = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            SendAsync(http, nodes[leader], HttpMethod.Post, "v1/leases", new { path = $"/before/{i}", owner = "before", ttl = 600 })));
        foreach (var answer in before)
        {
            Assert.True(answer.Status == HttpStatusCode.Created, $"acquire before the freeze: {answer}");
        }
        var kept = before.Select(a => (Id: a.Json.GetProperty("id").GetInt64(), Fence: a.Json.GetProperty("fence").GetInt64())).ToList();

        nodes.Freeze(f1);
        nodes.Freeze(f2);
        var keys = Enumerable.Range(0, 32).Select(i => $"inflight-{i:D2}-{Guid.NewGuid():N}").ToArray();
        var acquires = keys.Select((key, i) => OutcomeAsync(
            SendOnceAsync(http, nodes[leader], HttpMethod.Post, "v1/leases", new { path = $"/inflight/{i}", owner = "inflight", ttl = 600, idempotencyKey = key }),
            TimeSpan.FromSeconds(20))).ToArray();
        var reads = kept.Take(8).Select(k => OutcomeAsync(
            SendOnceAsync(http, nodes[leader], HttpMethod.Get, $"v1/leases/{k.Id}"), TimeSpan.FromSeconds(20))).ToArray();
        var refused = await Task.WhenAll(acquires);
        var unread = await Task.WhenAll(reads);
        nodes.Thaw(f1);
        nodes.Thaw(f2);
        foreach (var outcome in refused.Concat(unread))
        {
            output.WriteLine($"without a majority: {outcome}");
            Assert.True(outcome.Status is null or HttpStatusCode.ServiceUnavailable, $"answered without a majority: {outcome}");
            if (outcome.Answer is { } answer)
            {
                AssertProblem(answer, HttpStatusCode.ServiceUnavailable, "no-leader");
            }
        }

        await nodes.LeaderAsync(Deadline);
        await StableAsync(nodes);
        for (var node = 0; node < nodes.Count; node++)
        {
            foreach (var (id, fence) in kept)
            {
                var lease = await SendAsync(http, nodes[node], HttpMethod.Get, $"v1/leases/{id}");
                Assert.True(lease.Status == HttpStatusCode.OK, $"lease {id} through node {node}: {lease}");
                Assert.Equal(fence, lease.Json.GetProperty("fence").GetInt64());
            }
        }
        var fences = new HashSet<long>(kept.Select(k => k.Fence));
        for (var i = 0; i < keys.Length; i++)
        {
            var body = new { path = $"/inflight/{i}", owner = "inflight", ttl = 600, idempotencyKey = keys[i] };
            var first = await SendAsync(http, nodes[i % 3], HttpMethod.Post, "v1/leases", body);
            Assert.True(first.Status == HttpStatusCode.Created, $"retry of /inflight/{i}: {first}");
            var again = await SendAsync(http, nodes[(i + 1) % 3], HttpMethod.Post, "v1/leases", body);
            Assert.True(again.Status == HttpStatusCode.Created, $"second retry of /inflight/{i}: {again}");
            Assert.Equal(first.Json.GetProperty("id").GetInt64(), again.Json.GetProperty("id").GetInt64());
            Assert.True(fences.Add(first.Json.GetProperty("fence").GetInt64()), $"a fence given twice: {first}");
            var other = await SendAsync(http, nodes[leader], HttpMethod.Post, "v1/leases", new { path = $"/inflight/{i}", owner = "other", ttl = 5 });
            Assert.True(other.Status == HttpStatusCode.Conflict, $"a second holder of /inflight/{i}: {other}");
        }
        // A new log's entry data lives in 1 MiB files, not in a file per memory page.
        var data = Directory.GetFiles(Path.Combine(nodes[leader].DataDir, "raft", "log", "data"));
        Assert.NotEmpty(data);
        Assert.All(data, f => Assert.Equal(1L << 20, new FileInfo(f).Length));
    }

    // ---- 5. waiters and sessions across a failover ----

    [Fact]
    public async Task Waiters_on_a_killed_leader_get_an_answer_and_requeue_and_sessions_keep_their_grace()
    {
        using var nodes = new ClusterNodes(3, Path.Combine(_root, "waiters"));
        await nodes.StartAllAsync(Deadline);
        var leader = await StableAsync(nodes);
        var (follower, other) = Followers(nodes, leader);
        using var http = Http();
        var path = $"/queued/{Guid.NewGuid():N}";

        var holder = await SendAsync(http, nodes[leader], HttpMethod.Post, "v1/leases", new { path, owner = "holder", ttl = 600 });
        Assert.True(holder.Status == HttpStatusCode.Created, $"holder: {holder}");
        using var waitHttp = Http(TimeSpan.FromSeconds(60));
        var onLeader = SendOnceAsync(waitHttp, nodes[leader], HttpMethod.Post, "v1/leases", new { paths = new[] { path }, owner = "w-leader", wait = 30 });
        var viaFollower = SendOnceAsync(waitHttp, nodes[follower], HttpMethod.Post, "v1/leases", new { paths = new[] { path }, owner = "w-follower", wait = 30 });
        await UntilAsync(async () => await QueueLengthAsync(http, nodes[leader], path) == 2, Deadline, "two waiters queued on the leader");

        // A session with a ttl shorter than the failover, kept alive just before the leader dies.
        var session = await SendAsync(http, nodes[follower], HttpMethod.Post, "v1/sessions", new { ttl = 2, owner = "s" });
        Assert.True(session.Status == HttpStatusCode.Created, $"open session: {session}");
        var sessionId = session.Json.GetProperty("id").GetInt64();
        var sessionToken = session.Json.GetProperty("token").GetString()!;
        var bound = await SendAsync(http, nodes[follower], HttpMethod.Post, "v1/leases", new { path = $"{path}-session", session = sessionId });
        Assert.True(bound.Status == HttpStatusCode.Created, $"lease bound to the session: {bound}");
        var boundId = bound.Json.GetProperty("id").GetInt64();
        var alive = await SendAsync(http, nodes[follower], HttpMethod.Post, $"v1/sessions/{sessionId}/keepalive", token: sessionToken);
        Assert.True(alive.Status == HttpStatusCode.OK, $"keep-alive before the failover: {alive}");
        var sessionDeadline = alive.Json.GetProperty("expiresAt").GetDateTimeOffset();

        await nodes[leader].KillAsync();
        var killed = Stopwatch.StartNew();

        // Both waiters are answered at once (not after their 30 s): the one on the leader loses its connection
        // or gets 503, the one a follower forwarded gets 503 no-leader from the follower.
        var leaderOutcome = await OutcomeAsync(onLeader, TimeSpan.FromSeconds(10));
        Assert.True(leaderOutcome.Status is null || leaderOutcome.Status == HttpStatusCode.ServiceUnavailable,
            $"the waiter on the killed leader: {leaderOutcome}");
        var followerOutcome = await OutcomeAsync(viaFollower, TimeSpan.FromSeconds(10));
        Assert.True(followerOutcome.Status == HttpStatusCode.ServiceUnavailable, $"the waiter forwarded by follower {follower}: {followerOutcome}");
        AssertProblem(followerOutcome.Answer!.Value, HttpStatusCode.ServiceUnavailable, "no-leader");
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(10), $"waiters answered {killed.Elapsed} after the kill");

        var newLeader = await nodes.LeaderAsync(Deadline, except: leader);

        // The session outlives its own ttl across the failover: the new leader gave it the grace.
        await UntilAsync(async () =>
        {
            var lease = await SendAsync(http, nodes[follower], HttpMethod.Get, $"v1/leases/{boundId}");
            Assert.True(lease.Status == HttpStatusCode.OK, $"the session's lease after the failover ({DateTimeOffset.UtcNow:O}, session deadline {sessionDeadline:O}): {lease}");
            return DateTimeOffset.UtcNow > sessionDeadline.AddSeconds(1.5);
        }, Deadline, "past the session's own deadline");
        var kept = await SendAsync(http, nodes[other], HttpMethod.Post, $"v1/sessions/{sessionId}/keepalive", token: sessionToken);
        Assert.True(kept.Status == HttpStatusCode.OK, $"keep-alive after the failover: {kept}");
        Assert.True(kept.Json.GetProperty("expiresAt").GetDateTimeOffset() > sessionDeadline, kept.ToString());

        // The old queue is gone with the old leader; queuing again works, at the new leader, through a follower.
        var requeued = SendAsync(waitHttp, nodes[follower == newLeader ? other : follower], HttpMethod.Post, "v1/leases",
            new { paths = new[] { path }, owner = "w-again", wait = 20 });
        await UntilAsync(async () => await QueueLengthAsync(http, nodes[newLeader], path) >= 1, Deadline, "the waiter queued again");
        Assert.Equal(1, await QueueLengthAsync(http, nodes[newLeader], path));
        var release = await SendAsync(http, nodes[other], HttpMethod.Delete, $"v1/leases/{holder.Json.GetProperty("id").GetInt64()}",
            token: holder.Json.GetProperty("token").GetString());
        Assert.True(release.Status == HttpStatusCode.NoContent, $"release the holder after the failover: {release}");
        var granted = await OutcomeAsync(requeued, TimeSpan.FromSeconds(10));
        Assert.True(granted.Status == HttpStatusCode.Created, $"the re-queued waiter: {granted}");
        Assert.Equal("w-again", granted.Answer!.Value.Json.GetProperty("owner").GetString());
        Assert.True(granted.Answer.Value.Json.GetProperty("fence").GetInt64() > holder.Json.GetProperty("fence").GetInt64(), granted.ToString());
    }

    [Fact]
    public async Task Waiters_on_a_frozen_leader_are_told_to_retry_once_it_learns_it_was_deposed()
    {
        using var nodes = new ClusterNodes(3, Path.Combine(_root, "frozen"), "--Leasehold:Cluster:RequestTimeoutMs=300");
        await nodes.StartAllAsync(Deadline);
        var leader = await StableAsync(nodes);
        var (follower, other) = Followers(nodes, leader);
        using var http = Http();
        var path = $"/frozen/{Guid.NewGuid():N}";
        var holder = await SendAsync(http, nodes[leader], HttpMethod.Post, "v1/leases", new { path, owner = "holder", ttl = 600 });
        Assert.True(holder.Status == HttpStatusCode.Created, $"holder: {holder}");
        using var waitHttp = Http(TimeSpan.FromSeconds(60));
        var onLeader = SendOnceAsync(waitHttp, nodes[leader], HttpMethod.Post, "v1/leases", new { paths = new[] { path }, owner = "w-leader", wait = 40 });
        var viaFollower = SendOnceAsync(waitHttp, nodes[follower], HttpMethod.Post, "v1/leases", new { paths = new[] { path }, owner = "w-follower", wait = 40 });
        await UntilAsync(async () => await QueueLengthAsync(http, nodes[leader], path) == 2, Deadline, "two waiters queued on the leader");

        var clock = Stopwatch.StartNew();
        nodes.Freeze(leader);
        // A frozen leader still accepts connections: the votes asked of it must time out before the election does.
        var newLeader = await nodes.LeaderAsync(FrozenLeaderReplaced, except: leader);
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: node {newLeader} leads");
        // While the old leader is frozen the majority serves: the holder's lease is there, with its fence.
        var seen = await SendAsync(http, nodes[other], HttpMethod.Get, $"v1/leases/{holder.Json.GetProperty("id").GetInt64()}");
        Assert.True(seen.Status == HttpStatusCode.OK, $"the holder's lease on the new leader {newLeader}: {seen}");
        Assert.Equal(holder.Json.GetProperty("fence").GetInt64(), seen.Json.GetProperty("fence").GetInt64());
        // The follower does not wait on the frozen leader for the waiter it forwarded: the leader changed, so it is
        // told to retry while the old leader is still frozen.
        var forwarded = await OutcomeAsync(viaFollower, TimeSpan.FromSeconds(15));
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: the waiter forwarded by a follower: {forwarded}");
        Assert.True(forwarded.Answer is { } refused && refused.Status == HttpStatusCode.ServiceUnavailable, $"the waiter forwarded by a follower, its leader frozen: {forwarded}");
        AssertProblem(forwarded.Answer!.Value, HttpStatusCode.ServiceUnavailable, "no-leader");
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: node {newLeader} leads; thawing node {leader}");
        nodes.Thaw(leader);

        // Thawed, the old leader learns it was deposed and tells its waiters to retry; it grants nothing.
        foreach (var (name, request) in (ValueTuple<string, Task<Answer>>[])[("on the old leader", onLeader)])
        {
            var outcome = await OutcomeAsync(request, TimeSpan.FromSeconds(15));
            output.WriteLine($"{clock.ElapsedMilliseconds} ms: the waiter {name}: {outcome}");
            Assert.True(outcome.Status is null or HttpStatusCode.ServiceUnavailable, $"the waiter {name}: {outcome}");
            if (outcome.Answer is { } answer)
            {
                AssertProblem(answer, HttpStatusCode.ServiceUnavailable, "no-leader");
            }
        }
        await UntilAsync(async () => (await ReadyAsync(http, nodes[leader])).Cluster is { } view && view.GetProperty("role").GetString() == "follower",
            Deadline, "the old leader follows");
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: node {leader} follows");
        var requeued = SendAsync(waitHttp, nodes[leader], HttpMethod.Post, "v1/leases", new { paths = new[] { path }, owner = "w-again", wait = 20 });
        await UntilAsync(async () => await QueueLengthAsync(http, nodes[newLeader], path) >= 1, Deadline, "the waiter queued again");
        Assert.Equal(1, await QueueLengthAsync(http, nodes[newLeader], path));
        var release = await SendAsync(http, nodes[follower], HttpMethod.Delete, $"v1/leases/{holder.Json.GetProperty("id").GetInt64()}",
            token: holder.Json.GetProperty("token").GetString());
        Assert.True(release.Status == HttpStatusCode.NoContent, $"release the holder: {release}");
        var granted = await OutcomeAsync(requeued, TimeSpan.FromSeconds(10));
        Assert.True(granted.Status == HttpStatusCode.Created, $"the re-queued waiter, through the old leader: {granted}");
        Assert.Equal("w-again", granted.Answer!.Value.Json.GetProperty("owner").GetString());
    }

    // ---- 6. snapshots and catch-up ----

    [Fact]
    public async Task A_wiped_follower_catches_up_from_a_snapshot_and_serves_after_the_leader_dies()
    {
        using var nodes = new ClusterNodes(3, Path.Combine(_root, "snapshots"), "--Leasehold:SnapshotEvery=50");
        await nodes.StartAllAsync(Deadline);
        using var http = Http();
        var held = new Dictionary<long, long>();
        var released = new List<long>();
        var leader = await StableAsync(nodes);
        var (wiped, other) = Followers(nodes, leader);

        await ChangesAsync(http, [.. Enumerable.Range(0, 3).Select(i => nodes[i])], "first", 160, held, released);
        await nodes[wiped].KillAsync();
        await ChangesAsync(http, [nodes[leader], nodes[other]], "second", 150, held, released);
        // The leader has snapshotted (and reclaimed the log before it).
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(nodes[leader].DataDir, "raft", "state")));

        Directory.Delete(nodes[wiped].DataDir, recursive: true);
        await nodes[wiped].StartAsync(Deadline);
        var commit = (await ReadyAsync(http, nodes[leader])).Cluster!.Value.GetProperty("commitIndex").GetInt64();
        await UntilAsync(async () => (await ReadyAsync(http, nodes[wiped])).Cluster is { } view
            && view.GetProperty("appliedIndex").GetInt64() >= commit && view.GetProperty("lag") is { ValueKind: JsonValueKind.Number } lag && lag.GetInt64() == 0, Deadline,
            $"the wiped node applied entry {commit}");
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(nodes[wiped].DataDir, "raft", "state")));

        await nodes[leader].KillAsync();
        var newLeader = await nodes.LeaderAsync(Deadline, except: leader);
        foreach (var (id, fence) in held)
        {
            var lease = await SendAsync(http, nodes[wiped], HttpMethod.Get, $"v1/leases/{id}");
            Assert.True(lease.Status == HttpStatusCode.OK, $"lease {id} after the leader died (node {newLeader} leads): {lease}");
            Assert.Equal(fence, lease.Json.GetProperty("fence").GetInt64());
        }
        foreach (var id in released.Take(20))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, nodes[wiped], HttpMethod.Get, $"v1/leases/{id}")).Status);
        }
        var fresh = await SendAsync(http, nodes[wiped], HttpMethod.Post, "v1/leases", new { path = "/after/snapshot", ttl = 60 });
        Assert.True(fresh.Status == HttpStatusCode.Created, $"acquire after the leader died: {fresh}");
        Assert.True(fresh.Json.GetProperty("fence").GetInt64() > held.Values.Max(), fresh.ToString());
        var newCommit = (await ReadyAsync(http, nodes[newLeader])).Cluster!.Value.GetProperty("commitIndex").GetInt64();
        await UntilAsync(async () => (await ReadyAsync(http, nodes[wiped])).Cluster is { } view && view.GetProperty("appliedIndex").GetInt64() >= newCommit,
            Deadline, "the wiped node applies the new leader's entries");
    }

    /// <summary>Acquires <paramref name="count"/> paths through the given nodes in turn, then releases every third one.</summary>
    private static async Task ChangesAsync(HttpClient http, ServerProcess[] through, string prefix, int count,
        Dictionary<long, long> held, List<long> released)
    {
        var taken = new List<(long Id, long Fence, string Token)>();
        for (var start = 0; start < count; start += 8)
        {
            var batch = await Task.WhenAll(Enumerable.Range(start, Math.Min(8, count - start)).Select(i =>
                SendAsync(http, through[i % through.Length], HttpMethod.Post, "v1/leases", new { path = $"/{prefix}/{i}", owner = prefix })));
            foreach (var answer in batch)
            {
                Assert.True(answer.Status == HttpStatusCode.Created, $"acquire: {answer}");
                taken.Add((answer.Json.GetProperty("id").GetInt64(), answer.Json.GetProperty("fence").GetInt64(), answer.Json.GetProperty("token").GetString()!));
            }
        }
        var toRelease = taken.Where((_, i) => i % 3 == 0).ToList();
        for (var start = 0; start < toRelease.Count; start += 8)
        {
            var chunk = toRelease.Skip(start).Take(8).ToList();
            var answers = await Task.WhenAll(chunk.Select((t, i) =>
                SendAsync(http, through[i % through.Length], HttpMethod.Delete, $"v1/leases/{t.Id}", token: t.Token)));
            Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.NoContent, $"release: {a}"));
        }
        foreach (var (id, fence, _) in taken)
        {
            if (toRelease.Any(t => t.Id == id))
            {
                released.Add(id);
            }
            else
            {
                held[id] = fence;
            }
        }
    }

    // ---- 8. the wrong kind of data directory, a port the others cannot reach ----

    [Fact]
    public async Task A_cluster_node_on_a_single_servers_directory_is_refused_in_one_line()
    {
        var dir = Path.Combine(_root, "single");
        using (var single = new ServerProcess(dir))
        {
            await single.StartAsync(Deadline);
            using var http = Http();
            var taken = await SendAsync(http, single, HttpMethod.Post, "v1/leases", new { path = "/single" });
            Assert.Equal(HttpStatusCode.Created, taken.Status);
            await single.KillAsync();
        }
        using var node = OneNodeCluster(dir);
        Assert.Equal(2, await node.StartExpectingRefusalAsync(Deadline));
        AssertOneLineRefusal(node.OutputTail, "holds a single server's log");
    }

    [Fact]
    public async Task A_single_server_on_a_cluster_nodes_directory_is_refused_in_one_line()
    {
        var dir = Path.Combine(_root, "clustered");
        using (var node = OneNodeCluster(dir))
        {
            await node.StartAsync(Deadline);
            await node.KillAsync();
        }
        using var single = new ServerProcess(dir);
        Assert.Equal(2, await single.StartExpectingRefusalAsync(Deadline));
        AssertOneLineRefusal(single.OutputTail, "holds a cluster node's Raft log");
    }

    [Fact]
    public async Task A_cluster_node_without_a_fixed_http_port_is_refused_in_one_line()
    {
        using var node = OneNodeCluster(Path.Combine(_root, "port0"), "--urls", "http://127.0.0.1:0");
        Assert.Equal(2, await node.StartExpectingRefusalAsync(Deadline));
        AssertOneLineRefusal(node.OutputTail, "not port 0");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1025")]
    public async Task A_cluster_node_with_no_room_or_too_much_for_entries_in_flight_is_refused_in_one_line(string inFlight)
    {
        using var node = OneNodeCluster(Path.Combine(_root, $"inflight{inFlight}"), $"--Leasehold:Cluster:MaxEntriesInFlight={inFlight}");
        Assert.Equal(2, await node.StartExpectingRefusalAsync(Deadline));
        AssertOneLineRefusal(node.OutputTail, "MaxEntriesInFlight must be from 1 to 1024");
    }

    private static ServerProcess OneNodeCluster(string dir, params string[] extra)
    {
        var raft = $"127.0.0.1:{ServerProcess.FreePort()}";
        return new ServerProcess(dir, ["--cluster-node", raft, "--cluster-members", raft, .. extra]) { FixedPort = ServerProcess.FreePort() };
    }

    private static void AssertOneLineRefusal(string output, string expected)
    {
        var lines = output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("[exit code", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.StartsWith("leasehold: cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    // ---- helpers ----

    internal readonly record struct Answer(HttpStatusCode Status, string Body, string? RetryAfter, string? ContentType)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

        public override string ToString() => $"{(int)Status} {Body}";
    }

    /// <summary>What a request came to: an answer, or (Status null) an error without one.</summary>
    internal readonly record struct Outcome(Answer? Answer, string? Error)
    {
        public HttpStatusCode? Status => Answer?.Status;

        public override string ToString() => Answer?.ToString() ?? $"no answer: {Error}";
    }

    private static HttpClient Http(TimeSpan? timeout = null)
        => new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(2) }) { Timeout = timeout ?? TimeSpan.FromSeconds(15) };

    private static (int, int) Followers(ClusterNodes nodes, int leader)
    {
        var followers = Enumerable.Range(0, nodes.Count).Where(i => i != leader).ToArray();
        return (followers[0], followers[1]);
    }

    /// <summary>
    /// Sends a request, again while the answer is 503 (a leader is being elected: the cluster says to retry), for at
    /// most <see cref="Deadline"/>. For the steps that set a test up or check its result; what a test expects a 503
    /// from goes through <see cref="SendOnceAsync"/>.
    /// </summary>
    private static async Task<Answer> SendAsync(HttpClient http, ServerProcess node, HttpMethod method, string relative, object? body = null,
        string? token = null, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var answer = await SendOnceAsync(http, node, method, relative, body, token, timeout);
            if (answer.Status != HttpStatusCode.ServiceUnavailable || clock.Elapsed > Deadline)
            {
                return answer;
            }
            await Task.Delay(100);
        }
    }

    private static async Task<Answer> SendOnceAsync(HttpClient http, ServerProcess node, HttpMethod method, string relative, object? body = null,
        string? token = null, TimeSpan? timeout = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(node.BaseAddress, relative));
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.Add(LeaseholdApi.TokenHeader, token);
        }
        using var cancel = new CancellationTokenSource(timeout ?? http.Timeout);
        using var response = await http.SendAsync(request, cancel.Token);
        return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync(cancel.Token),
            response.Headers.RetryAfter?.ToString(), response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<Answer> XmlRpcAsync(HttpClient http, ServerProcess node, string method, params string[] args)
    {
        var call = new StringBuilder("<?xml version='1.0'?><methodCall><methodName>").Append(method).Append("</methodName><params>");
        foreach (var arg in args)
        {
            call.Append("<param><value><string>").Append(arg).Append("</string></value></param>");
        }
        call.Append("</params></methodCall>");
        using var content = new StringContent(call.ToString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/xml");
        using var response = await http.PostAsync(new Uri(node.BaseAddress, "RPC2"), content);
        return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync(), null, response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<Outcome> OutcomeAsync(Task<Answer> request, TimeSpan within)
    {
        try
        {
            return new Outcome(await request.WaitAsync(within), null);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the request was not answered within {within.TotalSeconds} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            return new Outcome(null, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private static void AssertProblem(Answer answer, HttpStatusCode status, string code)
    {
        Assert.True(answer.Status == status, $"expected {(int)status} {code}, got {answer}");
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal(code, answer.Json.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(answer.Json.GetProperty("detail").GetString()), answer.ToString());
    }

    /// <summary>A node's readiness: its status code and cluster view, or (0, null) if it does not answer.</summary>
    private static async Task<(HttpStatusCode Status, JsonElement? Cluster)> ReadyAsync(HttpClient http, ServerProcess node)
    {
        try
        {
            var answer = await SendOnceAsync(http, node, HttpMethod.Get, "readyz", timeout: TimeSpan.FromSeconds(2));
            return (answer.Status, answer.Json.TryGetProperty("cluster", out var cluster) ? cluster : null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return (0, null);
        }
    }

    /// <summary>
    /// Waits until every running node (frozen ones aside) is ready and names the same leader in the same term, one
    /// of them leading: a cluster that just started, or just failed over, may still change leaders once.
    /// </summary>
    private static async Task<int> StableAsync(ClusterNodes nodes)
    {
        using var http = Http();
        var leader = -1;
        await UntilAsync(async () =>
        {
            var views = new List<(int Index, JsonElement View)>();
            for (var i = 0; i < nodes.Count; i++)
            {
                if (nodes[i].ProcessId is null || nodes.Frozen.Contains(i))
                {
                    continue;
                }
                var (status, view) = await ReadyAsync(http, nodes[i]);
                if (status != HttpStatusCode.OK || view is null)
                {
                    return false;
                }
                views.Add((i, view.Value));
            }
            var leaders = views.Where(v => v.View.GetProperty("role").GetString() == "leader").ToList();
            leader = leaders.Count == 1 ? leaders[0].Index : -1;
            return leader >= 0
                && views.Select(v => v.View.GetProperty("term").GetInt64()).Distinct().Count() == 1
                && views.Select(v => v.View.GetProperty("leader").GetString()).Distinct().Count() == 1;
        }, Deadline, "a stable leader");
        return leader;
    }

    private static async Task<List<List<string>>> MembersAsync(HttpClient http, ClusterNodes nodes)
    {
        var result = new List<List<string>>();
        for (var i = 0; i < nodes.Count; i++)
        {
            var view = await SendAsync(http, nodes[i], HttpMethod.Get, "v1/cluster");
            result.Add(view.Status == HttpStatusCode.OK
                ? [.. view.Json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("endpoint").GetString()!)]
                : []);
        }
        return result;
    }

    private static async Task<int> QueueLengthAsync(HttpClient http, ServerProcess node, string path)
    {
        var resource = await SendAsync(http, node, HttpMethod.Get, $"v1/resources{path}");
        return resource.Status == HttpStatusCode.OK ? resource.Json.GetProperty("queue").GetArrayLength() : -1;
    }

    /// <summary>Acquires through whichever node grants first (a node that does not answer, or answers 503, is skipped).</summary>
    private static async Task<JsonElement> GrantThroughAnyAsync(HttpClient http, ClusterNodes nodes, object body)
    {
        Answer last = default;
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; clock.Elapsed < Deadline; attempt++)
        {
            var node = nodes[attempt % nodes.Count];
            if (node.ProcessId is null)
            {
                continue;
            }
            try
            {
                last = await SendOnceAsync(http, node, HttpMethod.Post, "v1/leases", body, timeout: TimeSpan.FromSeconds(5));
                if (last.Status == HttpStatusCode.Created)
                {
                    return last.Json;
                }
                Assert.True(last.Status == HttpStatusCode.ServiceUnavailable, $"acquire: {last}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"no node granted within {Deadline.TotalSeconds} s; last answer {last}");
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds; fails after <paramref name="deadline"/>.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"not within {deadline.TotalSeconds} s: {what}");
            }
            await Task.Delay(50);
        }
    }
}

/// <summary>One three-node cluster for the tests that leave it as they found it (no node killed).</summary>
public sealed class SharedCluster : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("leasehold-ctests-shared-").FullName;
    private ClusterNodes? _nodes;

    internal ClusterNodes Nodes => _nodes ?? throw new InvalidOperationException("the shared cluster has not started");

    public async Task InitializeAsync()
    {
        _nodes = new ClusterNodes(3, _root);
        await _nodes.StartAllAsync(ClusterTests.Deadline);
    }

    public Task DisposeAsync()
    {
        _nodes?.Dispose();
        DeleteQuietly(_root);
        return Task.CompletedTask;
    }

    internal static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
