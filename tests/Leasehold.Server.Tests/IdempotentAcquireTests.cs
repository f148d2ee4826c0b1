using System.Net;
using Leasehold.Server.Tests.Security;

namespace Leasehold.Server.Tests;

/// <summary>
/// <c>idempotencyKey</c> on <c>POST /v1/leases</c>: a retry of an acquire gets the lease the first try got,
/// while that lease lives, and only for the same principal.
/// </summary>
public sealed class IdempotentAcquireTests : ServerTestBase
{
    private const string Key = "retry-key-0123456789_ABCDEF";

    private async Task<long> LeaseCountAsync() => (await GetJsonAsync("/v1/stats")).GetProperty("leases").GetInt64();

    [Fact]
    public async Task A_retry_with_the_same_key_gets_the_same_lease_and_creates_no_second_one()
    {
        var first = await AcquireOkAsync($$"""{"path": "/jobs/a", "ttl": 60, "idempotencyKey": "{{Key}}"}""");
        // The retry would not be granted if it were a new acquire: /jobs/a is held, by the first try.
        var retry = await AcquireOkAsync($$"""{"path": "/jobs/a", "ttl": 60, "idempotencyKey": "{{Key}}"}""");

        Assert.Equal(first, retry);
        Assert.Equal([first.Id], HolderIds(await GetResourceAsync("/jobs/a")));
        Assert.Equal(1, await LeaseCountAsync());
        // The token the retry got is the lease's: it renews and releases it.
        using (var renewed = await SendAsync(HttpMethod.Post, $"/v1/leases/{retry.Id}/renew", retry.Token, "{}"))
        {
            Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        }
        await ReleaseOkAsync(retry);
        Assert.Equal(0, await LeaseCountAsync());
    }

    [Fact]
    public async Task A_retry_with_another_body_still_gets_the_earlier_lease_unchanged()
    {
        var first = await AcquireOkAsync($$"""{"path": "/jobs/h", "ttl": 60, "idempotencyKey": "{{Key}}"}""");
        var expires = (await GetJsonAsync($"/v1/leases/{first.Id}")).GetProperty("expiresAt").GetString();

        // As documented: the key names the lease; a retry's body is not compared, and nothing is renewed.
        var retry = await AcquireOkAsync($$"""{"path": "/jobs/other", "ttl": 5, "idempotencyKey": "{{Key}}"}""");

        Assert.Equal(first, retry);
        Assert.Equal(expires, (await GetJsonAsync($"/v1/leases/{first.Id}")).GetProperty("expiresAt").GetString());
        Assert.Empty(HolderIds(await GetResourceAsync("/jobs/other")));
        Assert.Equal(1, await LeaseCountAsync());
    }

    [Fact]
    public async Task Without_a_key_the_same_body_sent_again_is_a_second_acquire()
    {
        await AcquireOkAsync("""{"path": "/jobs/b", "mode": "shared", "ttl": 60}""");
        await AcquireOkAsync("""{"path": "/jobs/b", "mode": "shared", "ttl": 60}""");
        Assert.Equal(2, await LeaseCountAsync());
    }

    [Fact]
    public async Task Another_key_is_another_lease()
    {
        var first = await AcquireOkAsync($$"""{"path": "/jobs/c", "mode": "shared", "ttl": 60, "idempotencyKey": "{{Key}}"}""");
        var second = await AcquireOkAsync($$"""{"path": "/jobs/c", "mode": "shared", "ttl": 60, "idempotencyKey": "{{Key}}x"}""");

        Assert.NotEqual(first.Id, second.Id);
        Assert.NotEqual(first.Token, second.Token);
        Assert.Equal(2, await LeaseCountAsync());
    }

    [Fact]
    public async Task A_key_used_again_after_its_lease_was_released_acquires_a_new_lease()
    {
        var first = await AcquireOkAsync($$"""{"path": "/jobs/d", "idempotencyKey": "{{Key}}"}""");
        await ReleaseOkAsync(first);

        var again = await AcquireOkAsync($$"""{"path": "/jobs/d", "idempotencyKey": "{{Key}}"}""");

        Assert.NotEqual(first.Id, again.Id);
        Assert.True(again.Fence > first.Fence);
        Assert.Equal([again.Id], HolderIds(await GetResourceAsync("/jobs/d")));
        Assert.Equal(1, await LeaseCountAsync());
    }

    [Fact]
    public async Task A_retried_pool_acquire_gets_the_same_resources()
    {
        foreach (var name in new[] { "r1", "r2", "r3" })
        {
            using var declared = await SendAsync(HttpMethod.Put, "/v1/resources/pool/" + name, null, """{"kind": "x"}""");
            Assert.Equal(HttpStatusCode.OK, declared.StatusCode);
        }
        var body = $$"""{"pool": "/pool", "require": "kind=x", "count": 1, "ttl": 60, "idempotencyKey": "{{Key}}"}""";
        using var firstResponse = await AcquireAsync(body);
        var first = await ReadJsonAsync(firstResponse, HttpStatusCode.Created);
        using var retryResponse = await AcquireAsync(body);
        var retry = await ReadJsonAsync(retryResponse, HttpStatusCode.Created);

        Assert.Equal(ToHeld(first), ToHeld(retry));
        Assert.Equal(first.GetProperty("paths")[0].GetString(), retry.GetProperty("paths")[0].GetString());
        Assert.Equal(1, await LeaseCountAsync());
    }

    public static TheoryData<string> BadKeys =>
    [
        "\"0123456789abcde\"",                      // 15 characters
        "\"" + new string('k', 129) + "\"",         // 129
        "\"0123456789abcdef.\"",                    // a character outside A-Z a-z 0-9 _ -
        "\"0123456789 abcdef\"",
        "\"0123456789abcdéf\"",
        "\"\"",
    ];

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task A_malformed_key_is_400_invalid_argument_and_takes_nothing(string key)
    {
        using var response = await AcquireAsync($$"""{"path": "/jobs/e", "idempotencyKey": {{key}}}""");
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
        Assert.Contains("idempotencyKey", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await LeaseCountAsync());
    }

    [Fact]
    public async Task Keys_of_16_and_128_characters_are_taken()
    {
        await AcquireOkAsync($$"""{"path": "/jobs/f", "idempotencyKey": "{{new string('a', 16)}}"}""");
        await AcquireOkAsync($$"""{"path": "/jobs/g", "idempotencyKey": "{{new string('-', 64) + new string('_', 64)}}"}""");
        Assert.Equal(2, await LeaseCountAsync());
    }

    [Fact]
    public async Task A_key_with_reuse_is_400_invalid_argument()
    {
        using var response = await AcquireAsync($$"""{"pool": "/pool", "owner": "me", "reuse": true, "idempotencyKey": "{{Key}}"}""");
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-argument");
        Assert.Contains("reuse", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_principal_with_the_same_key_gets_a_lease_of_its_own()
    {
        var rules = SecuredServer.DefaultRules();
        rules.Add(SecuredServer.Rule(["ci", "lab"], "/both/**", "lock", "read"));
        await using var secured = await SecuredServer.StartAsync(rules);
        var body = $$"""{"path": "/both/a", "mode": "shared", "ttl": 60, "idempotencyKey": "{{Key}}"}""";

        using var ci = await secured.SendAsync("ci", HttpMethod.Post, "/v1/leases", body);
        var ciLease = await HttpAssert.ReadJsonAsync(ci, HttpStatusCode.Created);
        using var ciRetry = await secured.SendAsync("ci", HttpMethod.Post, "/v1/leases", body);
        var ciRetryLease = await HttpAssert.ReadJsonAsync(ciRetry, HttpStatusCode.Created);
        using var lab = await secured.SendAsync("lab", HttpMethod.Post, "/v1/leases", body);
        var labLease = await HttpAssert.ReadJsonAsync(lab, HttpStatusCode.Created);

        Assert.Equal(ToHeld(ciLease), ToHeld(ciRetryLease));
        Assert.NotEqual(ciLease.GetProperty("id").GetInt64(), labLease.GetProperty("id").GetInt64());
        Assert.NotEqual(ciLease.GetProperty("token").GetString(), labLease.GetProperty("token").GetString());
        Assert.Equal("lab", labLease.GetProperty("principal").GetString());
        Assert.Equal(2, (await secured.HoldersAsync("/both/a")).Length);
    }
}
