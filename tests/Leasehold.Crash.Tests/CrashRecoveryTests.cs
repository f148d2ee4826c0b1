using System.Diagnostics;
using System.Globalization;
using System.Net;
using Xunit.Abstractions;

namespace Leasehold.Crash.Tests;

/// <summary>
/// Kills the real server (SIGKILL) while clients acquire and release, restarts it on the same data directory and
/// checks that what was acknowledged is what survived: granted leases are held with the same paths, mode, fence and
/// token; acknowledged releases stay released; no two holders conflict; fences only grow.
/// Seeded: the seed is printed, and LEASEHOLD_CRASH_SEED=n replays one (timing still varies).
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private const string SeedVariable = "LEASEHOLD_CRASH_SEED";
    private const int Rounds = 5;
    private const int Clients = 8;
    private const int MinRunMs = 200;
    private const int MaxRunMs = 800;
    private const int CheckParallelism = 8;
    private const int MaxViolationsShown = 25;

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);

    /// <summary>No new round starts after this much time, so the test stays bounded on a slow machine.</summary>
    private static readonly TimeSpan RoundBudget = TimeSpan.FromSeconds(15);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "leasehold-crash-" + Guid.NewGuid().ToString("N"));
    private bool _keepData;

    public void Dispose()
    {
        if (_keepData)
        {
            return;
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
        }
    }

    /// <param name="snapshotEvery">0: the server's default (no snapshot within this test); otherwise snapshots, log cuts
    /// and new segments happen between the kills too.</param>
    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    public async Task AcknowledgedStateSurvivesRepeatedKills(int snapshotEvery)
    {
        var seed = Seed();
        output.WriteLine($"seed {seed} (replay with {SeedVariable}={seed}), {Rounds} rounds x {Clients} clients, {MinRunMs}-{MaxRunMs} ms each, snapshotEvery {(snapshotEvery == 0 ? "default" : snapshotEvery)}");
        output.WriteLine($"data directory {_root}");
        var rng = new Random(seed);
        var journal = new CrashJournal();
        var clients = Enumerable.Range(0, Clients).Select(i => new CrashClient(i, unchecked((seed * 31) + i + 1), journal)).ToArray();
        string[] extra = snapshotEvery == 0 ? [] : [$"--Leasehold:SnapshotEvery={snapshotEvery}"];
        using var server = new ServerProcess(_root, extra);
        var clock = Stopwatch.StartNew();
        _keepData = true;

        await server.StartAsync(StartDeadline);
        journal.StartEpoch(0);
        var epoch = 0;
        for (var round = 0; round < Rounds; round++)
        {
            if (clock.Elapsed > RoundBudget)
            {
                output.WriteLine($"time budget used after {round} rounds; stopping early");
                break;
            }
            var runMs = rng.Next(MinRunMs, MaxRunMs + 1);
            using (var api = new LeaseholdApi(server.BaseAddress))
            {
                using var stop = new CancellationTokenSource();
                var running = clients.Select(c => Task.Run(() => c.RunRoundAsync(api, () => stop.IsCancellationRequested))).ToArray();
                await Task.Delay(runMs);
                journal.Killing = true;
                await server.KillAsync();
                await stop.CancelAsync();
                await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(30));
            }
            var counts = journal.TakeCounts();
            await server.StartAsync(StartDeadline);
            epoch++;
            var summary = await CheckRecoveryAsync(server, journal, epoch);
            output.WriteLine($"round {round}: ran {runMs} ms, {counts}; after restart {epoch}: {summary}");
            FailOnViolations(journal, server, seed);
        }

        // The last server releases everything with tokens handed out by earlier processes, then one more kill.
        using (var api = new LeaseholdApi(server.BaseAddress))
        {
            await Task.WhenAll(clients.Select(c => c.ReleaseEverythingAsync(api)));
        }
        var finalCounts = journal.TakeCounts();
        FailOnViolations(journal, server, seed);
        journal.Killing = true;
        await server.KillAsync();
        await server.StartAsync(StartDeadline);
        epoch++;
        var finalSummary = await CheckRecoveryAsync(server, journal, epoch);
        output.WriteLine($"final release of everything: {finalCounts}; after restart {epoch}: {finalSummary}");
        var stillHeld = journal.Grants().Where(g => g.Fate == Fate.Held).ToList();
        if (stillHeld.Count > 0)
        {
            journal.Violation($"{stillHeld.Count} acknowledged leases were never released by the final phase, e.g. {stillHeld[0]}");
        }
        FailOnViolations(journal, server, seed);
        await server.KillAsync();
        output.WriteLine($"{server.Starts} server starts, {journal.Grants().Count} acknowledged grants checked, {clock.Elapsed.TotalSeconds:F1} s");
        if (server.OutputTail.Length > 0)
        {
            output.WriteLine($"server output:{Environment.NewLine}{server.OutputTail}");
        }
        _keepData = false;
    }

    /// <summary>The narrowest window: the 201 arrives and the server dies at once.</summary>
    [Fact]
    public async Task LeaseAcknowledgedJustBeforeKillKeepsItsToken()
    {
        using var server = new ServerProcess(_root);
        _keepData = true;
        await server.StartAsync(StartDeadline);

        LeaseView a;
        using (var api = new LeaseholdApi(server.BaseAddress))
        {
            var reply = await api.AcquireAsync(new AcquireBody { Path = "/det/a", Ttl = 60, Owner = "det-a" });
            await server.KillAsync();
            Assert.True(reply.Status == HttpStatusCode.Created, reply.ToString());
            a = reply.As<LeaseView>();
        }

        await server.StartAsync(StartDeadline);
        LeaseView b;
        SessionView session;
        using (var api = new LeaseholdApi(server.BaseAddress))
        {
            AssertSame(a, await GetHeldAsync(api, a.Id));
            var blocked = await api.AcquireAsync(new AcquireBody { Path = "/det/a", Wait = 0 });
            Assert.True(blocked.Status == HttpStatusCode.Conflict, $"/det/a must still be held after the restart: {blocked}");

            var opened = await api.OpenSessionAsync(30);
            Assert.True(opened.Status == HttpStatusCode.Created, opened.ToString());
            session = opened.As<SessionView>();
            var reply = await api.AcquireAsync(new AcquireBody { Paths = ["/det/b", "/det/b/c"], Mode = "shared", Session = session.Id, Owner = "det-b" });
            await server.KillAsync();
            Assert.True(reply.Status == HttpStatusCode.Created, reply.ToString());
            b = reply.As<LeaseView>();
            Assert.True(b.Fence > a.Fence, $"fence {b.Fence} after the restart is not above {a.Fence}");
        }

        var relaunched = server.LaunchedAt.ToUnixTimeMilliseconds();
        await server.StartAsync(StartDeadline);
        using (var api = new LeaseholdApi(server.BaseAddress))
        {
            var aAgain = await GetHeldAsync(api, a.Id);
            AssertSame(a, aAgain);
            Assert.True(aAgain.ExpiresAt!.Value.ToUnixTimeMilliseconds() >= relaunched + 60_000, $"the ttl clock was not restarted: {aAgain.ExpiresAt:O}");
            AssertSame(b, await GetHeldAsync(api, b.Id));
            var kept = await api.KeepAliveAsync(session.Id, session.Token!);
            Assert.True(kept.Status == HttpStatusCode.OK, $"the session did not survive: {kept}");

            Assert.Equal(HttpStatusCode.NoContent, (await api.ReleaseAsync(a.Id, a.Token!)).Status);
            Assert.Equal(HttpStatusCode.NoContent, (await api.ReleaseAsync(b.Id, b.Token!)).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await api.GetLeaseAsync(a.Id)).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await api.GetLeaseAsync(b.Id)).Status);
            await server.KillAsync();
        }

        await server.StartAsync(StartDeadline);
        using (var api = new LeaseholdApi(server.BaseAddress))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await api.GetLeaseAsync(a.Id)).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await api.GetLeaseAsync(b.Id)).Status);
            var again = await api.AcquireAsync(new AcquireBody { Path = "/det/a", Ttl = 60 });
            Assert.True(again.Status == HttpStatusCode.Created, again.ToString());
            var fence = again.As<LeaseView>().Fence;
            Assert.True(fence > b.Fence, $"fence {fence} after three restarts is not above {b.Fence}");
        }
        await server.KillAsync();
        _keepData = false;
    }

    /// <summary>
    /// A kill between creating a log segment and writing its header (DataStore.StartSegment, on a roll, a snapshot's
    /// cut or a fresh start) leaves the newest segment shorter than its 24-byte header. The next start must write the
    /// header again; before the fix it appended records to the headerless file and the start after that refused
    /// with "bad magic". The kill is simulated by leaving exactly that file while the server is down.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public async Task KillWhileCreatingASegmentDoesNotStopLaterStarts(int headerBytesWritten)
    {
        using var server = new ServerProcess(_root);
        _keepData = true;
        await server.StartAsync(StartDeadline);
        LeaseView a;
        using (var api = new LeaseholdApi(server.BaseAddress))
        {
            var reply = await api.AcquireAsync(new AcquireBody { Path = "/seg/a", Ttl = 60 });
            Assert.True(reply.Status == HttpStatusCode.Created, reply.ToString());
            a = reply.As<LeaseView>();
        }
        await server.KillAsync();

        var next = Leasehold.Storage.LogReader.Replay(_root, 0, (_, _) => { }).NextIndex;
        var header = File.ReadAllBytes(Leasehold.Storage.LogReader.Segments(_root)[0].Path)[..headerBytesWritten];
        await File.WriteAllBytesAsync(Path.Combine(_root, Leasehold.Storage.LogFormat.SegmentName(next)), header);

        await server.StartAsync(StartDeadline);
        LeaseView b;
        using (var api = new LeaseholdApi(server.BaseAddress))
        {
            AssertSame(a, await GetHeldAsync(api, a.Id));
            var reply = await api.AcquireAsync(new AcquireBody { Path = "/seg/b", Ttl = 60 });
            Assert.True(reply.Status == HttpStatusCode.Created, reply.ToString());
            b = reply.As<LeaseView>();
        }
        await server.KillAsync();

        await server.StartAsync(StartDeadline);
        using (var api = new LeaseholdApi(server.BaseAddress))
        {
            AssertSame(a, await GetHeldAsync(api, a.Id));
            AssertSame(b, await GetHeldAsync(api, b.Id));
            Assert.Equal(HttpStatusCode.NoContent, (await api.ReleaseAsync(a.Id, a.Token!)).Status);
            Assert.Equal(HttpStatusCode.NoContent, (await api.ReleaseAsync(b.Id, b.Token!)).Status);
        }
        await server.KillAsync();
        _keepData = false;
    }

    /// <summary>
    /// The checks after a restart, before any client runs again. Listed fences raise the journal's fence floor;
    /// then a probe grant must beat it. Returns a one-line summary; violations go to the journal.
    /// </summary>
    private static async Task<string> CheckRecoveryAsync(ServerProcess server, CrashJournal journal, int epoch)
    {
        var clock = Stopwatch.StartNew();
        var launchedMs = server.LaunchedAt.ToUnixTimeMilliseconds();
        using var api = new LeaseholdApi(server.BaseAddress);
        var listReply = await api.ListAsync();
        if (listReply.Status != HttpStatusCode.OK)
        {
            journal.Violation($"epoch {epoch}: listing failed: {listReply}");
            return "listing failed";
        }
        var listing = listReply.As<ResourceListView>();
        if (listing.Truncated)
        {
            journal.Violation($"epoch {epoch}: the listing is truncated");
        }

        // The listing itself: each lease the same wherever it appears, listed under exactly its paths, no queue left.
        var listed = new Dictionary<long, LeaseView>();
        var listedUnder = new Dictionary<long, HashSet<string>>();
        foreach (var resource in listing.Resources)
        {
            if (resource.Queue.Length > 0)
            {
                journal.Violation($"epoch {epoch}: {resource.Path} still has {resource.Queue.Length} waiters after the restart (Recover drops the queue)");
            }
            foreach (var holder in resource.Holders)
            {
                if (listed.TryGetValue(holder.Id, out var seen) && Differs(seen, holder) is { } diff)
                {
                    journal.Violation($"epoch {epoch}: lease {holder.Id} is listed differently under two paths ({diff})");
                }
                listed[holder.Id] = holder;
                if (!listedUnder.TryGetValue(holder.Id, out var under))
                {
                    listedUnder[holder.Id] = under = new HashSet<string>(StringComparer.Ordinal);
                }
                under.Add(resource.Path);
            }
        }
        foreach (var (id, lease) in listed)
        {
            if (!listedUnder[id].SetEquals(lease.Paths))
            {
                journal.Violation($"epoch {epoch}: {lease} is listed under [{string.Join(',', listedUnder[id].Order(StringComparer.Ordinal))}]");
            }
            if (lease.Session is { } s && journal.IsClosedSession(s))
            {
                journal.Violation($"epoch {epoch}: {lease} survives although closing session {s} was acknowledged");
            }
            journal.ObserveFence(lease.Fence);
        }

        // 3 and 5: no two current holders conflict, acknowledged or not.
        foreach (var conflict in HolderRule.Conflicts([.. listed.Values]))
        {
            journal.Violation($"epoch {epoch}: conflicting holders after the restart: {conflict}");
        }

        // 1 and 2: every acknowledged grant is held unless its release was acknowledged; acknowledged releases stay released.
        var grants = journal.Grants();
        await Parallel.ForEachAsync(grants, new ParallelOptions { MaxDegreeOfParallelism = CheckParallelism }, async (grant, _) =>
        {
            var id = grant.Lease.Id;
            var reply = await api.GetLeaseAsync(id);
            listed.TryGetValue(id, out var inListing);
            switch (grant.Fate)
            {
                case Fate.Held when reply.Status != HttpStatusCode.OK:
                    journal.Violation($"epoch {epoch}: acknowledged lease lost: GET answered {reply} for {grant}");
                    break;
                case Fate.Held:
                    var current = reply.As<LeaseView>();
                    if (Differs(grant.Lease, current) is { } changed)
                    {
                        journal.Violation($"epoch {epoch}: {grant} came back different: {changed}");
                    }
                    if (inListing is null)
                    {
                        journal.Violation($"epoch {epoch}: {grant} answers GET but is not in the listing");
                    }
                    if (grant.Lease.Ttl is { } ttl)
                    {
                        var ttlMs = (long)(ttl * 1000);
                        var expires = current.ExpiresAt?.ToUnixTimeMilliseconds();
                        if (expires is null || expires < launchedMs + ttlMs || expires > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + ttlMs)
                        {
                            journal.Violation($"epoch {epoch}: {grant} expires at {current.ExpiresAt:O}; Recover should give a full ttl from the restart ({DateTimeOffset.FromUnixTimeMilliseconds(launchedMs):O} or a little later)");
                        }
                    }
                    else if (current.ExpiresAt is not null)
                    {
                        journal.Violation($"epoch {epoch}: {grant} has no ttl but expires at {current.ExpiresAt:O}");
                    }
                    break;
                case Fate.Released when reply.Status != HttpStatusCode.NotFound || inListing is not null:
                    journal.Violation($"epoch {epoch}: acknowledged release undone: GET answered {reply}, listed: {inListing is not null}, for {grant}");
                    break;
                case Fate.Maybe when reply.Status == HttpStatusCode.OK && Differs(grant.Lease, reply.As<LeaseView>()) is { } maybeChanged:
                    journal.Violation($"epoch {epoch}: {grant} came back different: {maybeChanged}");
                    break;
            }
        });

        var acknowledged = grants.Select(g => g.Lease.Id).ToHashSet();
        var unacknowledged = listed.Values.Where(l => !acknowledged.Contains(l.Id)).ToList();
        var heldCount = grants.Count(g => g.Fate == Fate.Held);
        var maybeCount = grants.Count(g => g.Fate == Fate.Maybe);

        // 4: the epoch starts; its first grant must beat every fence seen so far (acknowledged or listed).
        journal.StartEpoch(epoch);
        var floor = journal.FenceFloor;
        var probe = await api.AcquireAsync(new AcquireBody { Path = "/probe", Ttl = 60, Owner = $"probe-{epoch}" });
        long probeFence = 0;
        if (probe.Status != HttpStatusCode.Created)
        {
            journal.Violation($"epoch {epoch}: the probe on /probe was not granted: {probe}");
        }
        else
        {
            var lease = probe.As<LeaseView>();
            probeFence = lease.Fence;
            journal.AckGrant(new GrantRecord { Lease = lease, Token = lease.Token!, Epoch = epoch, Client = -1 });
            var released = await api.ReleaseAsync(lease.Id, lease.Token!);
            if (released.Status == HttpStatusCode.NoContent)
            {
                journal.AckRelease(lease.Id);
            }
            else
            {
                journal.Lost(lease.Id, $"release of the probe answered {released}");
            }
        }
        var files = Directory.GetFiles(server.DataDir);
        return string.Create(CultureInfo.InvariantCulture,
            $"{files.Count(f => Path.GetFileName(f).StartsWith("wal-", StringComparison.Ordinal))} log segments, {files.Count(f => f.EndsWith(".snap", StringComparison.Ordinal))} snapshots, {listed.Count} listed ({unacknowledged.Count} never acknowledged), {heldCount} must-hold + {maybeCount} maybe of {grants.Count} acknowledged checked, fence floor {floor}, probe fence {probeFence}, checks {clock.ElapsedMilliseconds} ms");
    }

    private static async Task<LeaseView> GetHeldAsync(LeaseholdApi api, long id)
    {
        var reply = await api.GetLeaseAsync(id);
        Assert.True(reply.Status == HttpStatusCode.OK, $"lease {id} is not held after the restart: {reply}");
        return reply.As<LeaseView>();
    }

    private static void AssertSame(LeaseView expected, LeaseView actual)
    {
        if (Differs(expected, actual) is { } diff)
        {
            Assert.Fail($"{expected} came back different: {diff}");
        }
    }

    /// <summary>What differs between two views of one lease (token and expiry aside), or null.</summary>
    private static string? Differs(LeaseView expected, LeaseView actual)
    {
        var diffs = new List<string>();
        if (expected.Id != actual.Id)
        {
            diffs.Add($"id {actual.Id}");
        }
        if (expected.Fence != actual.Fence)
        {
            diffs.Add($"fence {actual.Fence}");
        }
        if (expected.Mode != actual.Mode)
        {
            diffs.Add($"mode {actual.Mode}");
        }
        if (!expected.Paths.SequenceEqual(actual.Paths))
        {
            diffs.Add($"paths [{string.Join(',', actual.Paths)}]");
        }
        if (expected.Limit != actual.Limit || expected.Session != actual.Session || expected.Ttl != actual.Ttl || expected.Owner != actual.Owner)
        {
            diffs.Add($"limit {actual.Limit} session {actual.Session} ttl {actual.Ttl} owner {actual.Owner}");
        }
        if (expected.LockParents != actual.LockParents || expected.LockChildren != actual.LockChildren)
        {
            diffs.Add($"lockParents {actual.LockParents} lockChildren {actual.LockChildren}");
        }
        return diffs.Count == 0 ? null : string.Join(", ", diffs);
    }

    private void FailOnViolations(CrashJournal journal, ServerProcess server, int seed)
    {
        var violations = journal.Violations();
        if (violations.Count == 0)
        {
            return;
        }
        var shown = string.Join(Environment.NewLine, violations.Take(MaxViolationsShown).Select(v => " - " + v));
        var message = $"{violations.Count} violation(s), seed {seed} ({SeedVariable}={seed}), data kept in {_root}:{Environment.NewLine}{shown}"
            + $"{Environment.NewLine}server output:{Environment.NewLine}{server.OutputTail}";
        output.WriteLine(message);
        Assert.Fail(message);
    }

    private static int Seed()
        => int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : Random.Shared.Next();
}
