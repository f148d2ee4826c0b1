using System.Diagnostics;
using System.Net;

namespace Leasehold.Server.Tests;

/// <summary>Leases with a time to live end by themselves; renewing pushes the end back.</summary>
public sealed class ExpiryTests : ServerTestBase
{
    [Fact]
    public Task AWaiterGetsThePathWhenTheLeaseExpires() => WithRetriesAsync(async attempt =>
    {
        var path = $"/e{attempt}";
        using var first = await AcquireAsync($$"""{"path":"{{path}}","ttl":0.5}""");
        var a = await ReadJsonAsync(first, HttpStatusCode.Created);
        var expiresAt = a.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.Equal(a.GetProperty("acquiredAt").GetDateTimeOffset().AddMilliseconds(500), expiresAt);

        var clock = Stopwatch.StartNew();
        using var response = await AcquireAsync($$"""{"path":"{{path}}","wait":10}""", Server.CreateClient());
        var elapsed = clock.Elapsed;

        var b = await ReadJsonAsync(response, HttpStatusCode.Created);
        var grantedAt = b.GetProperty("acquiredAt").GetDateTimeOffset();
        var waited = b.GetProperty("waited").GetDouble();
        var queuedAt = grantedAt.AddMilliseconds(-waited * 1000);
        Assert.True(grantedAt >= expiresAt, $"granted at {grantedAt:O}, before the lease expired at {expiresAt:O}");
        if (queuedAt >= expiresAt)
        {
            return false; // The second request reached the server only after the expiry.
        }
        Assert.True(grantedAt - expiresAt < TimeSpan.FromSeconds(2), $"granted {(grantedAt - expiresAt).TotalMilliseconds} ms after the expiry");
        // Queued within 0.1 s of the first grant, it waited at least the other 0.4 s of the ttl.
        var queuedAfter = queuedAt - a.GetProperty("acquiredAt").GetDateTimeOffset();
        Assert.True(waited >= 0.4 || queuedAfter > TimeSpan.FromMilliseconds(100), $"waited only {waited} s, queued {queuedAfter.TotalMilliseconds} ms after the grant");
        Assert.True(waited > 0);
        Assert.True(elapsed.TotalSeconds >= waited - 0.01, $"answered after {elapsed.TotalSeconds} s but waited {waited} s");
        Assert.True(b.GetProperty("fence").GetInt64() > a.GetProperty("fence").GetInt64());

        using var gone = await GetAsync($"/v1/leases/{a.GetProperty("id").GetInt64()}");
        await AssertProblemAsync(gone, HttpStatusCode.NotFound, "not-found");
        return true;
    }, "the waiter was queued before the 0.5 s lease expired");

    [Fact]
    public Task RenewKeepsTheLeaseBeyondItsFirstTtl() => WithRetriesAsync(async attempt =>
    {
        var path = $"/r{attempt}";
        using var first = await AcquireAsync($$"""{"path":"{{path}}","ttl":0.5}""");
        var lease = await ReadJsonAsync(first, HttpStatusCode.Created);
        var held = ToHeld(lease);
        var firstExpiry = lease.GetProperty("expiresAt").GetDateTimeOffset();

        using var renew = await SendAsync(HttpMethod.Post, $"/v1/leases/{held.Id}/renew", held.Token, """{"ttl":30}""");
        if (renew.StatusCode == HttpStatusCode.NotFound && DateTimeOffset.UtcNow >= firstExpiry)
        {
            return false; // Expired before the renewal arrived.
        }
        var renewed = await ReadJsonAsync(renew, HttpStatusCode.OK);
        Assert.True(renewed.GetProperty("expiresAt").GetDateTimeOffset() >= firstExpiry.AddSeconds(29.5));

        // A waiter whose wait ends well after the first expiry still finds the lease there.
        var clock = Stopwatch.StartNew();
        using var waiter = await AcquireAsync($$"""{"path":"{{path}}","wait":1.0}""");
        Assert.True(DateTimeOffset.UtcNow > firstExpiry.AddMilliseconds(300));
        var problem = await AssertProblemAsync(waiter, HttpStatusCode.Conflict, "locked");
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(990));
        Assert.Equal([held.Id], HolderIds(problem));
        await AssertStillHeldAsync(held, path);
        return true;
    }, "the 0.5 s lease was renewed before it expired");

    [Fact]
    public async Task AnExpiredLeaseIsGone()
    {
        using var first = await AcquireAsync("""{"path":"/x","ttl":0.3}""");
        var lease = await ReadJsonAsync(first, HttpStatusCode.Created);
        var held = ToHeld(lease);
        var expiresAt = lease.GetProperty("expiresAt").GetDateTimeOffset();

        await WaitUntilAsync(async () =>
        {
            using var response = await GetAsync($"/v1/leases/{held.Id}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return false;
            }
            await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
            return true;
        }, "the lease has expired", TimeSpan.FromSeconds(5));
        Assert.True(DateTimeOffset.UtcNow >= expiresAt, "gone before it expired");

        using var release = await ReleaseAsync(held);
        await AssertProblemAsync(release, HttpStatusCode.NotFound, "not-found");
        using var renew = await SendAsync(HttpMethod.Post, $"/v1/leases/{held.Id}/renew", held.Token);
        await AssertProblemAsync(renew, HttpStatusCode.NotFound, "not-found");
        Assert.Empty(HolderIds(await GetResourceAsync("/x")));
        await AcquireOkAsync("""{"path":"/x"}""");
    }
}
