using System.Diagnostics;
using System.Net;

namespace Leasehold.Server.Tests;

/// <summary>Requests that wait: handoff, FIFO order, no overtaking, wait timeouts, clients that give up.</summary>
public sealed class WaitingTests : ServerTestBase
{
    /// <summary>How soon after a release a queued request must be answered.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task ReleaseHandsThePathToTheWaiterPromptly()
    {
        var a = await AcquireOkAsync("""{"path":"/h","owner":"A"}""");
        var b = AcquireAsync("""{"path":"/h","owner":"B","wait":10}""", Server.CreateClient());
        await WaitForQueueAsync("/h", 1);
        Assert.False(b.IsCompleted);

        var clock = Stopwatch.StartNew();
        await ReleaseOkAsync(a);
        using var response = await Bounded(b);
        var elapsed = clock.Elapsed;

        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.True(elapsed < Prompt, $"the waiter was answered {elapsed.TotalMilliseconds} ms after the release");
        Assert.Equal("B", lease.GetProperty("owner").GetString());
        Assert.Matches("^[0-9a-f]{32}$", lease.GetProperty("token").GetString());
        Assert.True(lease.GetProperty("fence").GetInt64() > a.Fence);
        Assert.True(lease.GetProperty("waited").GetDouble() > 0);
        var resource = await GetResourceAsync("/h");
        Assert.Equal([lease.GetProperty("id").GetInt64()], HolderIds(resource));
        Assert.Equal(0, resource.GetProperty("queue").GetArrayLength());
    }

    [Fact]
    public async Task WaitersAreServedInArrivalOrder()
    {
        var a = await AcquireOkAsync("""{"path":"/q","owner":"A"}""");
        var pending = new Dictionary<string, Task<HttpResponseMessage>>();
        foreach (var (name, count) in new[] { ("B", 1), ("C", 2), ("D", 3) })
        {
            pending[name] = AcquireAsync($$"""{"path":"/q","owner":"{{name}}","wait":10}""", Server.CreateClient());
            await WaitForQueueAsync("/q", count);
        }
        Assert.Equal(["B", "C", "D"], QueueOwners(await GetResourceAsync("/q")));

        var previous = a;
        string[] rest = ["C", "D"];
        foreach (var name in new[] { "B", "C", "D" })
        {
            await ReleaseOkAsync(previous);
            using var response = await Bounded(pending[name]);
            var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
            Assert.Equal(name, lease.GetProperty("owner").GetString());
            var granted = ToHeld(lease);
            Assert.True(granted.Fence > previous.Fence);

            var resource = await GetResourceAsync("/q");
            Assert.Equal([granted.Id], HolderIds(resource));
            Assert.Equal(rest, QueueOwners(resource));
            Assert.All(rest, later => Assert.False(pending[later].IsCompleted, $"{later} was answered before its turn"));
            rest = rest.Length > 0 ? rest[1..] : rest;
            previous = granted;
        }
    }

    [Fact]
    public async Task SharedRequestWaitsBehindAQueuedExclusiveOne()
    {
        var reader = await AcquireOkAsync("""{"path":"/s","mode":"shared","owner":"R1"}""");
        var writer = AcquireAsync("""{"path":"/s","owner":"W","wait":10}""", Server.CreateClient());
        await WaitForQueueAsync("/s", 1);

        // Compatible with the holder, but it may not overtake the writer: refused at once with wait 0...
        using var now = await AcquireAsync("""{"path":"/s","mode":"shared","owner":"R2"}""");
        var problem = await AssertProblemAsync(now, HttpStatusCode.Conflict, "locked");
        Assert.Empty(HolderIds(problem));

        // ...and queued behind it with a wait.
        var second = AcquireAsync("""{"path":"/s","mode":"shared","owner":"R2","wait":10}""", Server.CreateClient());
        await WaitForQueueAsync("/s", 2);
        Assert.Equal(["W", "R2"], QueueOwners(await GetResourceAsync("/s")));
        Assert.False(second.IsCompleted);

        await ReleaseOkAsync(reader);
        using var writerResponse = await Bounded(writer);
        var writerLease = ToHeld(await ReadJsonAsync(writerResponse, HttpStatusCode.Created));
        var during = await GetResourceAsync("/s");
        Assert.Equal([writerLease.Id], HolderIds(during));
        Assert.Equal(["R2"], QueueOwners(during));

        await ReleaseOkAsync(writerLease);
        using var secondResponse = await Bounded(second);
        var secondLease = await ReadJsonAsync(secondResponse, HttpStatusCode.Created);
        Assert.Equal("shared", secondLease.GetProperty("mode").GetString());
        Assert.True(secondLease.GetProperty("fence").GetInt64() > writerLease.Fence);
    }

    [Fact]
    public async Task WaitRunsOutWithLocked()
    {
        var a = await AcquireOkAsync("""{"path":"/t"}""");
        var clock = Stopwatch.StartNew();
        using var response = await AcquireAsync("""{"path":"/t","wait":0.3}""");
        var elapsed = clock.Elapsed;

        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, "locked");
        Assert.Equal([a.Id], HolderIds(problem));
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(290), $"answered after {elapsed.TotalMilliseconds} ms, before the wait ran out");
        Assert.True(elapsed < TimeSpan.FromSeconds(3), $"answered only after {elapsed.TotalMilliseconds} ms");
        Assert.Equal(0, (await GetResourceAsync("/t")).GetProperty("queue").GetArrayLength());
        await AssertStillHeldAsync(a, "/t");
    }

    [Fact]
    public async Task AClientThatGivesUpLeavesTheQueueAndGetsNothing()
    {
        var a = await AcquireOkAsync("""{"path":"/c"}""");
        using var giveUp = new CancellationTokenSource();
        var b = AcquireAsync("""{"path":"/c","owner":"B","wait":30}""", Server.CreateClient(), giveUp.Token);
        await WaitForQueueAsync("/c", 1);

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(b));
        await WaitForQueueAsync("/c", 0);

        await ReleaseOkAsync(a);
        var resource = await GetResourceAsync("/c");
        Assert.Empty(HolderIds(resource));
        Assert.Empty((await GetJsonAsync("/v1/resources?prefix=/c")).GetProperty("resources").EnumerateArray());
        var next = await AcquireOkAsync("""{"path":"/c"}""");
        Assert.Equal(a.Id + 1, next.Id);
    }

    [Fact]
    public async Task AWaiterBlockedOnOnePathOfSeveralHoldsNone()
    {
        var a = await AcquireOkAsync("""{"path":"/m/b"}""");
        var both = AcquireAsync("""{"paths":["/m/a","/m/b"],"wait":10}""", Server.CreateClient());
        await WaitForQueueAsync("/m/b", 1);
        Assert.Empty(HolderIds(await GetResourceAsync("/m/a")));

        await ReleaseOkAsync(a);
        using var response = await Bounded(both);
        var lease = ToHeld(await ReadJsonAsync(response, HttpStatusCode.Created));
        Assert.Equal([lease.Id], HolderIds(await GetResourceAsync("/m/a")));
        Assert.Equal([lease.Id], HolderIds(await GetResourceAsync("/m/b")));
    }
}
