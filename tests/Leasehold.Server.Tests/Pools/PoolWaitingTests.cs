using System.Diagnostics;
using System.Net;

namespace Leasehold.Server.Tests.Pools;

/// <summary>Pool requests that wait: granted by push on a release or a new declaration, failed when they can never be granted.</summary>
public sealed class PoolWaitingTests : PoolTestBase
{
    [Fact]
    public async Task AWaitingPoolRequestIsGrantedByPushWhenAMatchingResourceIsReleased()
    {
        await DeclareAsync("/lab/1", """{"os":"linux"}""");
        await DeclareAsync("/lab/2", """{"os":"win"}""");
        var linux = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"linux"},"owner":"A"}""");
        var win = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"win"},"owner":"C"}""");

        var waiting = AcquireAsync("""{"pool":"/lab","require":{"os":"linux"},"owner":"B","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(1);
        // The waiter queues on what it could use, not on the rest of the pool.
        Assert.Equal(1, await QueueLengthAsync("/lab/1"));
        Assert.Equal(0, await QueueLengthAsync("/lab/2"));

        // A resource it cannot use comes free: it keeps waiting (the writer has answered the release, so this is settled).
        await ReleaseOkAsync(win);
        Assert.Equal(1, (await StatsAsync()).GetProperty("waiters").GetInt32());
        Assert.Empty(await HolderIdsAsync("/lab/2"));
        Assert.False(waiting.IsCompleted);

        var clock = Stopwatch.StartNew();
        await ReleaseOkAsync(linux);
        using var response = await Bounded(waiting);
        var elapsed = clock.Elapsed;
        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.True(elapsed < Prompt, $"the waiter was answered {elapsed.TotalMilliseconds} ms after the release");
        Assert.Equal("B", lease.GetProperty("owner").GetString());
        Assert.Matches("^[0-9a-f]{32}$", lease.GetProperty("token").GetString());
        Assert.Equal([("/lab/1", 0)], Chosen(lease).Select(c => (c.Path, c.Group)));
        Assert.True(lease.GetProperty("waited").GetDouble() > 0);
        Assert.True(lease.GetProperty("fence").GetInt64() > linux.GetProperty("fence").GetInt64());
        Assert.Equal([Id(lease)], await HolderIdsAsync("/lab/1"));
        Assert.Equal(0, (await StatsAsync()).GetProperty("waiters").GetInt32());
    }

    [Fact]
    public async Task ANewMatchingDeclarationGrantsAWaiter()
    {
        await DeclareAsync("/lab/1", """{"os":"linux"}""");
        var held = await AcquireOkAsync("""{"pool":"/lab","owner":"A"}""");
        var waiting = AcquireAsync("""{"pool":"/lab","require":"os=linux","owner":"B","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(1);

        // A declaration that does not match changes nothing.
        await DeclareAsync("/lab/2", """{"os":"win"}""");
        Assert.Equal(1, (await StatsAsync()).GetProperty("waiters").GetInt32());
        Assert.False(waiting.IsCompleted);

        var clock = Stopwatch.StartNew();
        await DeclareAsync("/lab/3", """{"os":"linux","new":true}""");
        using var response = await Bounded(waiting);
        Assert.True(clock.Elapsed < Prompt, $"the waiter was answered {clock.Elapsed.TotalMilliseconds} ms after the declaration");
        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(["/lab/3"], Paths(lease));
        AssertJsonEqual("""{"os":"linux","new":true}""", Chosen(lease).Single().Attributes);
        Assert.Equal([Id(held)], await HolderIdsAsync("/lab/1"));
    }

    [Fact]
    public async Task AWaiterWhoseOnlyMatchStopsMatchingGetsNoMatch()
    {
        await DeclareAsync("/lab/1", """{"os":"linux"}""");
        var held = await AcquireOkAsync("""{"pool":"/lab","owner":"A"}""");
        var waiting = AcquireAsync("""{"pool":"/lab","require":{"os":"linux"},"owner":"B","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(1);

        // Re-declared while held: the holder keeps it, the waiter can never be granted now.
        var clock = Stopwatch.StartNew();
        await DeclareAsync("/lab/1", """{"os":"win"}""");
        using var response = await Bounded(waiting);
        Assert.True(clock.Elapsed < Prompt, $"the waiter was answered {clock.Elapsed.TotalMilliseconds} ms after the declaration");
        await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "no-match");
        Assert.Equal([Id(held)], await HolderIdsAsync("/lab/1"));
        Assert.Equal(0, (await StatsAsync()).GetProperty("waiters").GetInt32());
    }

    [Fact]
    public async Task AWaiterWhoseResourcesAreRemovedGetsNoMatch()
    {
        await DeclareAsync("/lab/1", """{"os":"linux"}""");
        await DeclareAsync("/lab/2", """{"os":"linux"}""");
        var held = await AcquireOkAsync("""{"pool":"/lab","owner":"A"}""");
        var waiting = AcquireAsync("""{"pool":"/lab","require":{"os":"linux"},"count":2,"owner":"B","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(1);

        using var removed = await SendAsync(HttpMethod.Delete, "/v1/resources/lab/2");
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        using var response = await Bounded(waiting);
        var problem = await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "no-match");
        Assert.Equal([Id(held)], await HolderIdsAsync("/lab/1"));
        Assert.Equal(0, (await StatsAsync()).GetProperty("waiters").GetInt32());
        Assert.NotNull(problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task AWaitingGroupRequestIsGrantedAllAtOnceAndKeepsItsClaim()
    {
        await DeclareAsync("/lab/phone-1", """{"kind":"phone"}""");
        await DeclareAsync("/lab/sim-1", """{"kind":"sim"}""");
        var phone = await AcquireOkAsync("""{"path":"/lab/phone-1","owner":"A"}""");
        var sim = await AcquireOkAsync("""{"path":"/lab/sim-1","owner":"B"}""");

        var waiting = AcquireAsync("""{"groups":[{"pool":"/lab","require":{"kind":"phone"}},{"pool":"/lab","require":{"kind":"sim"}}],"owner":"W","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(1);

        // The phone comes free: the waiter takes nothing yet (all or nothing)...
        await ReleaseOkAsync(phone);
        Assert.Empty(await HolderIdsAsync("/lab/phone-1"));
        Assert.Equal(1, await QueueLengthAsync("/lab/phone-1"));
        Assert.False(waiting.IsCompleted);
        // ...and a later request cannot take the phone the older waiter needs, by path or by pool.
        await AcquireFailsAsync("""{"path":"/lab/phone-1","owner":"late"}""", HttpStatusCode.Conflict, "locked");
        await AcquireFailsAsync("""{"pool":"/lab","require":{"kind":"phone"},"owner":"late"}""", HttpStatusCode.Conflict, "locked");

        var clock = Stopwatch.StartNew();
        await ReleaseOkAsync(sim);
        using var response = await Bounded(waiting);
        Assert.True(clock.Elapsed < Prompt, $"the waiter was answered {clock.Elapsed.TotalMilliseconds} ms after the release");
        var lease = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal([("/lab/phone-1", 0), ("/lab/sim-1", 1)], Chosen(lease).Select(c => (c.Path, c.Group)).Order());
    }

    [Fact]
    public async Task AWaitingPoolRequestRunsOutWithLockedAndLeavesTheQueue()
    {
        await DeclareAsync("/lab/1", "{}");
        var held = await AcquireOkAsync("""{"pool":"/lab"}""");
        var clock = Stopwatch.StartNew();
        await AcquireFailsAsync("""{"pool":"/lab","wait":0.3}""", HttpStatusCode.Conflict, "locked");
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290), $"answered after {clock.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(0, await QueueLengthAsync("/lab/1"));
        Assert.Equal([Id(held)], await HolderIdsAsync("/lab/1"));
    }

    [Fact]
    public async Task WaitingPoolRequestsAreServedInArrivalOrder()
    {
        await DeclareAsync("/lab/1", "{}");
        var held = await AcquireOkAsync("""{"pool":"/lab","owner":"A"}""");
        var first = AcquireAsync("""{"pool":"/lab","owner":"B","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(1);
        var second = AcquireAsync("""{"pool":"/lab","owner":"C","wait":15}""", Server.CreateClient());
        await WaitForWaitersAsync(2);

        await ReleaseOkAsync(held);
        using var firstResponse = await Bounded(first);
        var b = await ReadJsonAsync(firstResponse, HttpStatusCode.Created);
        Assert.Equal("B", b.GetProperty("owner").GetString());
        Assert.Equal(1, (await StatsAsync()).GetProperty("waiters").GetInt32());
        Assert.False(second.IsCompleted);

        await ReleaseOkAsync(b);
        using var secondResponse = await Bounded(second);
        Assert.Equal("C", (await ReadJsonAsync(secondResponse, HttpStatusCode.Created)).GetProperty("owner").GetString());
    }
}
