using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Leasehold.Crash.Tests;

/// <summary>
/// Issue 12's failover workload on three real nodes: 16 clients acquire and release distinct and shared paths
/// while, round after round, the leader is killed (SIGKILL), frozen (SIGSTOP, so it goes stale while another
/// is elected, then SIGCONT), or a follower restarts. A history checker then holds every client's record to
/// the lock service's promises (<see cref="ClusterHistory.Check"/>), and each client's long lease must have
/// kept its deadline across every failover.
/// </summary>
public sealed class ClusterFailoverTests(ITestOutputHelper output) : IDisposable
{
    private const int Clients = 16;
    private const int Rounds = 6;
    private const double LeaseTtl = 10;
    private const double AnchorTtl = 600;
    private const double RemainingTtl = 8;
    private static readonly TimeSpan RemainingTolerance = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LoadPerRound = TimeSpan.FromSeconds(2.5);

    private readonly string _root = Directory.CreateTempSubdirectory("leasehold-cluster-").FullName;

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
    public async Task Failover_under_load_keeps_every_promise()
    {
        using var cluster = new ClusterNodes(3, _root);
        await cluster.StartAllAsync(StartDeadline);
        var history = new ClusterHistory();
        var clients = Enumerable.Range(0, Clients).Select(i => new FailoverClient(i, cluster, history)).ToList();
        var anchors = new List<Grant>();
        foreach (var client in clients)
        {
            anchors.Add(await client.AnchorAsync(AnchorTtl));
        }
        var unavailability = new List<TimeSpan>();
        using var probe = FailoverClient.Http();
        for (var round = 0; round < Rounds; round++)
        {
            using var stop = new CancellationTokenSource(LoadPerRound);
            var load = clients.Select(c => c.RunAsync(LeaseTtl, stop.Token)).ToList();
            await Task.WhenAll(load);
            var leader = await cluster.LeaderAsync(StartDeadline);
            // In the first kill and the first freeze, a short lease spans the failover: it must keep its remaining time.
            var spanning = round < 2 ? await FailoverClient.GrantAsync(probe, cluster, $"/remaining/{round}", RemainingTtl, StartDeadline) : default;
            switch (round % 3)
            {
                case 0:
                    var killedAt = Stopwatch.StartNew();
                    await cluster[leader].KillAsync();
                    await FailoverClient.FirstGrantAsync(probe, cluster, $"/probe/{round}", StartDeadline);
                    unavailability.Add(killedAt.Elapsed);
                    var restart = cluster[leader].StartAsync(StartDeadline);
                    if (round < 2)
                    {
                        await CheckRemainingTimeAsync(probe, cluster, spanning, spanning.Since.Elapsed, round, history);
                    }
                    await restart;
                    break;
                case 1:
                    cluster.Freeze(leader);
                    await cluster.LeaderAsync(StartDeadline, except: leader);
                    var servingAgain = spanning.Since?.Elapsed ?? TimeSpan.Zero;
                    // Load while the old leader is stale: whatever reaches it must not be granted by it.
                    using (var during = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
                    {
                        await Task.WhenAll(clients.Select(c => c.RunAsync(LeaseTtl, during.Token)));
                    }
                    cluster.Thaw(leader);
                    if (round < 2)
                    {
                        await CheckRemainingTimeAsync(probe, cluster, spanning, servingAgain, round, history);
                    }
                    break;
                default:
                    var follower = Enumerable.Range(0, cluster.Count).First(i => i != leader);
                    await cluster[follower].KillAsync();
                    await cluster[follower].StartAsync(StartDeadline);
                    break;
            }
            await cluster.LeaderAsync(StartDeadline);
            foreach (var anchor in anchors)
            {
                var seen = await FailoverClient.ReadLeaseAsync(probe, cluster, anchor.LeaseId, StartDeadline);
                if (seen is not { } expiresAt)
                {
                    history.Violation($"round {round}: the long lease {anchor.LeaseId} of client {anchor.Client} is gone");
                }
                else if (expiresAt != anchor.ExpiresAt)
                {
                    history.Violation($"round {round}: lease {anchor.LeaseId}'s deadline moved from {anchor.ExpiresAt} to {expiresAt}");
                }
            }
        }
        // Every lease a client still holds is still there to release (none lost), through any node.
        foreach (var client in clients)
        {
            await client.ReleaseAllAsync();
        }
        var problems = history.Check();
        output.WriteLine($"{history.Grants.Count} grants acknowledged, {Interlocked.Read(ref history.Unknown)} requests without an answer");
        output.WriteLine($"unavailability after a leader SIGKILL (until a grant through any node): {string.Join(", ", unavailability.Select(u => $"{u.TotalMilliseconds:F0} ms"))}");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems.Take(20)));
        // The workload did contend: every shared path was granted to more than one client over the run.
        Assert.All(Enumerable.Range(0, FailoverClient.SharedPaths), p =>
            Assert.True(history.Grants.Where(g => g.Path == $"/shared/{p}").Select(g => g.Client).Distinct().Count() > 1, $"/shared/{p} was never contended"));
    }

    /// <summary>
    /// A lease granted just before a failover ends when its ttl has passed on the test's own clock, within the
    /// tolerance: held throughout until shortly before, gone shortly after (or shortly after a leader serves again,
    /// <paramref name="servingAgain"/> after the grant, when the cluster had none at its deadline: nothing expires
    /// without a leader, and nothing is granted either). A new leader whose time line jumped ahead would end it early;
    /// one that reset every ttl (as etcd does) or whose time stalled, late.
    /// </summary>
    private async Task CheckRemainingTimeAsync(HttpClient http, ClusterNodes cluster, (long Id, Stopwatch Since) lease, TimeSpan servingAgain, int round, ClusterHistory history)
    {
        var ttl = TimeSpan.FromSeconds(RemainingTtl);
        var latest = (ttl > servingAgain ? ttl : servingAgain) + RemainingTolerance + RemainingTolerance;
        if (lease.Since.Elapsed >= ttl - RemainingTolerance)
        {
            output.WriteLine($"round {round}: the failover outlasted the time the spanning lease must be held (checked only for its end)");
        }
        while (lease.Since.Elapsed < ttl - RemainingTolerance)
        {
            var asked = lease.Since.Elapsed;
            if (await FailoverClient.ReadLeaseAsync(http, cluster, lease.Id, StartDeadline) is null && asked < ttl - RemainingTolerance)
            {
                history.Violation($"round {round}: the lease spanning the failover ended {asked.TotalMilliseconds:F0} ms after its grant, its ttl being {ttl.TotalMilliseconds:F0} ms");
                return;
            }
            await Task.Delay(100);
        }
        while (true)
        {
            // The time the read was sent: the lease was still there then, whatever the read's own delay.
            var asked = lease.Since.Elapsed;
            if (await FailoverClient.ReadLeaseAsync(http, cluster, lease.Id, StartDeadline) is null)
            {
                break;
            }
            if (asked > latest)
            {
                history.Violation($"round {round}: the lease spanning the failover was still held {asked.TotalMilliseconds:F0} ms after its grant, its ttl being {ttl.TotalMilliseconds:F0} ms");
                return;
            }
            await Task.Delay(100);
        }
        output.WriteLine($"round {round}: the lease spanning the failover was gone {lease.Since.Elapsed.TotalMilliseconds:F0} ms after its grant (ttl {ttl.TotalMilliseconds:F0} ms)");
    }

    [Fact]
    public async Task After_the_whole_cluster_was_down_the_time_line_does_not_resume_where_it_stopped()
    {
        using var cluster = new ClusterNodes(3, _root);
        await cluster.StartAllAsync(StartDeadline);
        using var http = FailoverClient.Http();
        await FailoverClient.FirstGrantAsync(http, cluster, "/before", StartDeadline);
        for (var i = 0; i < cluster.Count; i++)
        {
            await cluster[i].KillAsync();
        }
        // Not a wait for anything: the outage itself, long against ClockSlackMs, so a time line that resumed where
        // it stopped would show.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await Task.WhenAll(Enumerable.Range(0, cluster.Count).Select(i => cluster[i].StartAsync(StartDeadline)));
        var leader = await cluster.LeaderAsync(StartDeadline);
        var asked = DateTimeOffset.UtcNow;

        using var response = await http.PostAsJsonAsync(new Uri(cluster[leader].BaseAddress, "v1/leases"), new { paths = new[] { "/after" }, owner = "t", ttl = 60 });
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var acquiredAt = json.RootElement.GetProperty("acquiredAt").GetDateTimeOffset();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        // A node replaying its own log must not continue from the last stamp it holds: the lease is stamped now,
        // not three seconds ago (which would stretch every deadline by the outage).
        Assert.True(acquiredAt >= asked.AddMilliseconds(-ClusterHistory.ClockSlackMs), $"acquired at {acquiredAt:O}, asked at {asked:O}");
    }
}

/// <summary>
/// One client of the failover workload: it talks to any node, moving to the next when one does not answer or
/// answers 503, and records every grant it is told of in the history. A request without an answer leaves its
/// outcome unknown: the lease it may have created ends with its ttl, and the checker counts only what was
/// acknowledged.
/// </summary>
internal sealed class FailoverClient(int index, ClusterNodes cluster, ClusterHistory history)
{
    public const int SharedPaths = 3;

    /// <summary>How long an acquire without an answer is retried with its key before the client gives up on it.</summary>
    private static readonly TimeSpan UnknownRetryTime = TimeSpan.FromSeconds(20);

    private readonly HttpClient _http = Http();
    private readonly Random _rng = new(index + 1);
    private readonly List<Grant> _held = [];
    private int _node = index % 3;
    private string? _lastAnswer;

    public static HttpClient Http() => new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(3) };

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public async Task<Grant> AnchorAsync(double ttl)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (await TryAcquireAsync($"/anchor/{index}", ttl) is { } grant)
            {
                return grant;
            }
        }
        throw new TimeoutException($"client {index} could not take its long lease: last answer {_lastAnswer}");
    }

    public async Task RunAsync(double ttl, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (_held.Count > 0 && (_held.Count >= 3 || _rng.NextDouble() < 0.5))
            {
                var lease = _held[_rng.Next(_held.Count)];
                if (await TryReleaseAsync(lease))
                {
                    _held.Remove(lease);
                }
                continue;
            }
            var path = _rng.NextDouble() < 0.5 ? $"/own/{index}" : $"/shared/{_rng.Next(SharedPaths)}";
            if (_held.Any(g => g.Path == path))
            {
                continue;
            }
            if (await TryAcquireAsync(path, ttl) is { } grant)
            {
                _held.Add(grant);
            }
        }
    }

    public async Task ReleaseAllAsync()
    {
        var clock = Stopwatch.StartNew();
        while (_held.Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (await TryReleaseAsync(_held[0]))
            {
                _held.RemoveAt(0);
            }
        }
    }

    /// <summary>
    /// Acquires without waiting. An attempt without an answer is repeated with the same idempotency key, on the
    /// next node, until one answers: a grant made by the lost attempt is then returned, never a second one.
    /// </summary>
    private async Task<Grant?> TryAcquireAsync(string path, double ttl)
    {
        var invoked = Now;
        var key = $"c{index}-{Guid.NewGuid():N}";
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var body = JsonContent.Create(new { paths = new[] { path }, owner = $"c{index}", ttl, idempotencyKey = key });
            var (status, json) = await SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/leases") { Content = body });
            if (status is null && clock.Elapsed < UnknownRetryTime)
            {
                await Task.Delay(50);
                continue;
            }
            if (status != HttpStatusCode.Created)
            {
                return null;
            }
            var root = json!.RootElement;
            var grant = new Grant
            {
                Client = index,
                LeaseId = root.GetProperty("id").GetInt64(),
                Token = root.GetProperty("token").GetString()!,
                Fence = root.GetProperty("fence").GetInt64(),
                Path = path,
                InvokedAt = invoked,
                AnsweredAt = Now,
                ExpiresAt = root.GetProperty("expiresAt").ValueKind == JsonValueKind.Null ? null : root.GetProperty("expiresAt").GetDateTimeOffset().ToUnixTimeMilliseconds(),
            };
            history.Add(grant);
            return grant;
        }
    }

    /// <summary>True once the release is answered (released, or the lease had expired); false to try again.</summary>
    private async Task<bool> TryReleaseAsync(Grant lease)
    {
        var invoked = Now;
        var request = new HttpRequestMessage(HttpMethod.Delete, $"v1/leases/{lease.LeaseId}");
        request.Headers.Add("Leasehold-Token", lease.Token);
        var (status, _) = await SendAsync(request);
        if (status is HttpStatusCode.NoContent or HttpStatusCode.OK)
        {
            lease.ReleaseInvokedAt = invoked;
            return true;
        }
        if (status == HttpStatusCode.NotFound)
        {
            if (lease.UnansweredReleaseAt is { } earlier)
            {
                // An earlier release went unanswered and did take effect: the lease ended no later than that.
                lease.ReleaseInvokedAt = earlier;
                return true;
            }
            if (lease.ExpiresAt is not { } expires || invoked < expires - ClusterHistory.ClockSlackMs)
            {
                history.Violation($"lease {lease.LeaseId} (fence {lease.Fence}, client {index}) was acknowledged but is gone at {invoked}, before its deadline {lease.ExpiresAt}");
            }
            return true;
        }
        if (status is null)
        {
            lease.UnansweredReleaseAt ??= invoked;
        }
        return false;
    }

    private async Task<(HttpStatusCode? Status, JsonDocument? Body)> SendAsync(HttpRequestMessage request)
    {
        request.RequestUri = new Uri(cluster[_node].BaseAddress, request.RequestUri!);
        try
        {
            using var response = await _http.SendAsync(request);
            _lastAnswer = $"{(int)response.StatusCode}";
            if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InternalServerError)
            {
                Interlocked.Increment(ref history.Unknown);
                _node = (_node + 1) % cluster.Count;
                return (null, null);
            }
            var text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text) : null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            _lastAnswer = ex.Message;
            Interlocked.Increment(ref history.Unknown);
            _node = (_node + 1) % cluster.Count;
            return (null, null);
        }
    }

    /// <summary>Acquires <paramref name="path"/> through whichever node answers first; the time until then is the unavailability.</summary>
    public static async Task FirstGrantAsync(HttpClient http, ClusterNodes cluster, string path, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; clock.Elapsed < deadline; attempt++)
        {
            var node = cluster[attempt % cluster.Count];
            if (node.ProcessId is null)
            {
                continue;
            }
            try
            {
                using var response = await http.PostAsJsonAsync(new Uri(node.BaseAddress, "v1/leases"), new { paths = new[] { path }, owner = "probe" });
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"no node granted {path} within {deadline.TotalSeconds} s");
    }

    /// <summary>Acquires <paramref name="path"/> with <paramref name="ttl"/> through any node that grants: its id, and a clock started just before the request.</summary>
    public static async Task<(long Id, Stopwatch Since)> GrantAsync(HttpClient http, ClusterNodes cluster, string path, double ttl, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; clock.Elapsed < deadline; attempt++)
        {
            var node = cluster[attempt % cluster.Count];
            if (node.ProcessId is null || cluster.Frozen.Contains(attempt % cluster.Count))
            {
                continue;
            }
            var since = Stopwatch.StartNew();
            try
            {
                using var response = await http.PostAsJsonAsync(new Uri(node.BaseAddress, "v1/leases"), new { paths = new[] { path }, owner = "probe", ttl });
                if (response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    return (json.RootElement.GetProperty("id").GetInt64(), since);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"no node granted {path} within {deadline.TotalSeconds} s");
    }

    /// <summary>A lease's deadline as any live node reports it (Unix ms; long.MinValue without one), or null if it is gone.</summary>
    public static async Task<long?> ReadLeaseAsync(HttpClient http, ClusterNodes cluster, long leaseId, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; clock.Elapsed < deadline; attempt++)
        {
            var node = cluster[attempt % cluster.Count];
            if (node.ProcessId is null || cluster.Frozen.Contains(attempt % cluster.Count))
            {
                continue;
            }
            try
            {
                using var response = await http.GetAsync(new Uri(node.BaseAddress, $"v1/leases/{leaseId}"));
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }
                if (response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    var expires = json.RootElement.GetProperty("expiresAt");
                    return expires.ValueKind == JsonValueKind.Null ? long.MinValue : expires.GetDateTimeOffset().ToUnixTimeMilliseconds();
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"no node answered for lease {leaseId} within {deadline.TotalSeconds} s");
    }
}
