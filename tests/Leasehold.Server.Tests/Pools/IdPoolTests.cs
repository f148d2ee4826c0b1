using System.Net;

namespace Leasehold.Server.Tests.Pools;

/// <summary>An id pool from configuration (<c>Leasehold:Pools:0:Ids=acct-0..acct-2</c>) and <c>reuse</c>.</summary>
public sealed class IdPoolTests : PoolTestBase
{
    protected override bool StartsAtOnce => false;

    public static string[] IdPoolArgs => ["--Leasehold:Pools:0:Path=/ids", "--Leasehold:Pools:0:Ids=acct-0..acct-2"];

    [Fact]
    public async Task EachIdIsAResourceWithItsIdAsItsAttributes()
    {
        await StartAsync(IdPoolArgs);
        var list = await ResourceListAsync("/ids");
        Assert.Equal(["acct-0", "acct-1", "acct-2"], list.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, item) in list)
        {
            AssertJsonEqual($$"""{"id":"{{id}}"}""", item);
            AssertJsonEqual($$"""{"id":"{{id}}"}""", (await AttributesAsync("/ids/" + id))!.Value);
        }
        Assert.Null(await AttributesAsync("/ids/acct-3"));
    }

    [Fact]
    public async Task ACommaListIsAnIdPoolToo()
    {
        await StartAsync("--Leasehold:Pools:0:Path=/ids", "--Leasehold:Pools:0:Ids=red, green,blue");
        Assert.Equal(["blue", "green", "red"], (await ResourceListAsync("/ids")).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReuseRenewsTheSameIdForTheSameOwner()
    {
        await StartAsync(IdPoolArgs);
        var first = await AcquireOkAsync("""{"pool":"/ids","owner":"worker-1","ttl":30,"reuse":true}""");
        var id = Paths(first).Single();

        var again = await AcquireOkAsync("""{"pool":"/ids","owner":"worker-1","ttl":60,"reuse":true}""");
        Assert.Equal(Id(first), Id(again));
        Assert.Equal(first.GetProperty("token").GetString(), again.GetProperty("token").GetString());
        Assert.Equal(first.GetProperty("fence").GetInt64(), again.GetProperty("fence").GetInt64());
        Assert.Equal([id], Paths(again));
        Assert.Equal(60, again.GetProperty("ttl").GetDouble());
        Assert.True(again.GetProperty("expiresAt").GetDateTimeOffset() > first.GetProperty("expiresAt").GetDateTimeOffset(),
            $"not renewed: {first.GetProperty("expiresAt")} then {again.GetProperty("expiresAt")}");
        Assert.Equal(1, (await StatsAsync()).GetProperty("leases").GetInt32());
        Assert.Equal([Id(first)], await HolderIdsAsync(id));

        // Another owner gets another id; the same owner without reuse takes a second one.
        var other = await AcquireOkAsync("""{"pool":"/ids","owner":"worker-2","reuse":true}""");
        Assert.NotEqual(id, Paths(other).Single());
        var second = await AcquireOkAsync("""{"pool":"/ids","owner":"worker-1"}""");
        Assert.NotEqual(Id(first), Id(second));
        Assert.DoesNotContain(Paths(second).Single(), new[] { id, Paths(other).Single() });

        // All three are out: a new owner is refused, while reuse still answers for worker-1 with one of its leases.
        await AcquireFailsAsync("""{"pool":"/ids","owner":"worker-3","reuse":true}""", HttpStatusCode.Conflict, "locked");
        Assert.Contains(Id(await AcquireOkAsync("""{"pool":"/ids","owner":"worker-1","reuse":true}""")), new[] { Id(first), Id(second) });
        Assert.Equal(3, (await StatsAsync()).GetProperty("leases").GetInt32());
    }

    [Fact]
    public async Task ReuseNeedsTheSameRequirementAndALiveLease()
    {
        await StartAsync(IdPoolArgs);
        var first = await AcquireOkAsync("""{"pool":"/ids","owner":"w","reuse":true}""");
        // A different requirement is a different request: a second lease.
        var named = await AcquireOkAsync("""{"pool":"/ids","require":{"id":"acct-2"},"owner":"w","reuse":true}""");
        Assert.NotEqual(Id(first), Id(named));
        Assert.Equal(["/ids/acct-2"], Paths(named));

        // Once released, reuse takes a fresh lease.
        await ReleaseOkAsync(first);
        var fresh = await AcquireOkAsync("""{"pool":"/ids","owner":"w","reuse":true}""");
        Assert.NotEqual(Id(first), Id(fresh));
        Assert.True(fresh.GetProperty("fence").GetInt64() > named.GetProperty("fence").GetInt64());
    }

    [Fact]
    public async Task AnIdComesBackWhenItsLeaseExpires()
    {
        await StartAsync("--Leasehold:Pools:0:Path=/ids", "--Leasehold:Pools:0:Ids=only-1");
        var lease = await AcquireOkAsync("""{"pool":"/ids","owner":"a","ttl":0.3}""");
        Assert.Equal(["/ids/only-1"], Paths(lease));
        // Waiting for the id is granted when the lease runs out.
        using var response = await Bounded(AcquireAsync("""{"pool":"/ids","owner":"b","wait":15}"""));
        var next = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(["/ids/only-1"], Paths(next));
        Assert.Equal("b", next.GetProperty("owner").GetString());
    }
}
