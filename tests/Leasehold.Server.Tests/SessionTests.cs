using System.Net;
using System.Text.Json;

namespace Leasehold.Server.Tests;

/// <summary>Leases bound to a session end with it: by expiry, or at once on close.</summary>
public sealed class SessionTests : ServerTestBase
{
    private async Task<(long Id, string Token, JsonElement Body)> OpenAsync(string body)
    {
        using var response = await PostAsync("/v1/sessions", body);
        var session = await ReadJsonAsync(response, HttpStatusCode.Created);
        return (session.GetProperty("id").GetInt64(), session.GetProperty("token").GetString()!, session);
    }

    [Fact]
    public Task LeasesEndWhenTheSessionIsNotKeptAlive() => WithRetriesAsync(async attempt =>
    {
        var (id, token, body) = await OpenAsync("""{"ttl":1}""");
        var expiresAt = body.GetProperty("expiresAt").GetDateTimeOffset();
        var leases = new List<Held>();
        foreach (var paths in new[] { $"[\"/s{attempt}/a\"]", $"[\"/s{attempt}/b\",\"/t{attempt}\"]" })
        {
            using var response = await AcquireAsync($$"""{"paths":{{paths}},"session":{{id}}}""");
            if (response.StatusCode == HttpStatusCode.NotFound && DateTimeOffset.UtcNow >= expiresAt)
            {
                return false; // The 1 s session ran out before both leases were bound.
            }
            leases.Add(ToHeld(await ReadJsonAsync(response, HttpStatusCode.Created)));
        }

        foreach (var lease in leases)
        {
            await WaitUntilAsync(async () =>
            {
                using var response = await GetAsync($"/v1/leases/{lease.Id}");
                return response.StatusCode == HttpStatusCode.NotFound;
            }, $"lease {lease.Id} has ended with its session", TimeSpan.FromSeconds(10));
        }
        Assert.True(DateTimeOffset.UtcNow >= expiresAt, "the leases ended before the session expired");
        Assert.Empty((await GetJsonAsync("/v1/resources")).GetProperty("resources").EnumerateArray());
        using var keep = await SendAsync(HttpMethod.Post, $"/v1/sessions/{id}/keepalive", token);
        await AssertProblemAsync(keep, HttpStatusCode.NotFound, "not-found");
        using var bind = await AcquireAsync($$"""{"path":"/s{{attempt}}/a","session":{{id}}}""");
        await AssertProblemAsync(bind, HttpStatusCode.NotFound, "not-found");
        return true;
    }, "both leases were bound before the 1 s session expired");

    [Fact]
    public async Task KeepAlivesKeepTheLeasesBeyondTheSessionTtl()
    {
        var (id, token, _) = await OpenAsync("""{"ttl":2}""");
        var held = await AcquireOkAsync($$"""{"path":"/k","session":{{id}}}""");

        // The waiter's wait (3 s) outlasts the session's ttl (2 s); keep-alives are sent while it waits.
        var waiter = AcquireAsync("""{"path":"/k","wait":3}""", Server.CreateClient());
        var keepAlives = 0;
        while (!waiter.IsCompleted)
        {
            using var keep = await SendAsync(HttpMethod.Post, $"/v1/sessions/{id}/keepalive", token);
            Assert.Equal(HttpStatusCode.OK, keep.StatusCode);
            keepAlives++;
            Assert.True(keepAlives < 100, "the waiter did not finish in time");
            await Task.WhenAny(waiter, Task.Delay(150));
        }
        using var answer = await Bounded(waiter);
        var problem = await AssertProblemAsync(answer, HttpStatusCode.Conflict, "locked");
        Assert.Equal([held.Id], HolderIds(problem));
        await AssertStillHeldAsync(held, "/k");
    }

    [Fact]
    public async Task ClosingTheSessionReleasesItsLeasesAtOnce()
    {
        var (id, token, _) = await OpenAsync("""{"ttl":60}""");
        var a = await AcquireOkAsync($$"""{"path":"/d/a","session":{{id}}}""");
        var b = await AcquireOkAsync($$"""{"path":"/d/b","session":{{id}},"ttl":600}""");
        var free = await AcquireOkAsync("""{"path":"/d/c"}""");
        var waiter = AcquireAsync("""{"path":"/d/a","wait":10}""", Server.CreateClient());
        await WaitForQueueAsync("/d/a", 1);

        using var close = await SendAsync(HttpMethod.Delete, $"/v1/sessions/{id}", token);
        Assert.Equal(HttpStatusCode.NoContent, close.StatusCode);

        foreach (var lease in new[] { a, b })
        {
            using var response = await GetAsync($"/v1/leases/{lease.Id}");
            await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        }
        using var granted = await Bounded(waiter);
        var next = ToHeld(await ReadJsonAsync(granted, HttpStatusCode.Created));
        Assert.True(next.Fence > b.Fence);
        Assert.Empty(HolderIds(await GetResourceAsync("/d/b")));
        await AssertStillHeldAsync(free, "/d/c");

        using var again = await SendAsync(HttpMethod.Delete, $"/v1/sessions/{id}", token);
        await AssertProblemAsync(again, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task KeepAliveWithAWrongTokenIsRefusedAndChangesNothing()
    {
        var (id, token, body) = await OpenAsync("""{"ttl":60}""");
        var held = await AcquireOkAsync($$"""{"path":"/w","session":{{id}}}""");
        using var wrong = await SendAsync(HttpMethod.Post, $"/v1/sessions/{id}/keepalive", "ffffffffffffffffffffffffffffffff");
        await AssertProblemAsync(wrong, HttpStatusCode.Forbidden, "invalid-token");
        using var right = await SendAsync(HttpMethod.Post, $"/v1/sessions/{id}/keepalive", token);
        var session = await ReadJsonAsync(right, HttpStatusCode.OK);
        Assert.Equal(body.GetProperty("id").GetInt64(), session.GetProperty("id").GetInt64());
        Assert.Equal(1, session.GetProperty("leases").GetInt32());
        await AssertStillHeldAsync(held, "/w");
    }

    [Fact]
    public async Task AcquireWithAnUnknownSessionIsNotFoundAndHoldsNothing()
    {
        using var response = await AcquireAsync("""{"path":"/u","session":77,"wait":5}""");
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        var resource = await GetResourceAsync("/u");
        Assert.Empty(HolderIds(resource));
        Assert.Equal(0, resource.GetProperty("queue").GetArrayLength());
    }
}
