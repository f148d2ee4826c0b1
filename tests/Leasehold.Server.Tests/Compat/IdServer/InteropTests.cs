using System.Net;
using System.Text;

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>An idserver lease is an ordinary Leasehold pool lease: visible, renewable and fenced over /v1.</summary>
public sealed class InteropTests : IdServerTestBase
{
    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task TheLeaseIsVisibleOverHttpWithTheIdserverOwner(string transport)
    {
        Assert.Equal("name-0", Value((await RunAsync(transport, Op("get", "client-4242", 30)))[0]));
        var holder = (await HoldersAsync("name-0")).Single();
        Assert.Equal("client-4242", holder.GetProperty("owner").GetString());
        Assert.Equal(30, holder.GetProperty("ttl").GetDouble());
        Assert.True(holder.GetProperty("fence").GetInt64() > 0);
        Assert.Equal($"{Pool}/name-0", holder.GetProperty("paths").EnumerateArray().Single().GetString());
    }

    [Fact]
    public async Task HttpReuseRenewsTheIdserverLeaseAndPutReleasesIt()
    {
        Assert.Equal("name-0", Value((await RunAsync("udp", Op("get", "client-7", 30)))[0]));
        var lease = await PostAsync("/v1/leases", $$"""{"pool": "{{Pool}}", "owner": "client-7", "ttl": 60, "reuse": true}""", HttpStatusCode.Created);
        Assert.Equal($"{Pool}/name-0", lease.GetProperty("paths").EnumerateArray().Single().GetString());
        Assert.Equal(1, await LeaseCountAsync());

        // A lease the same owner took by path, with its token, is not what a put releases.
        var byPath = await PostAsync("/v1/leases", $$"""{"path": "{{Pool}}/name-2", "owner": "client-7", "ttl": 60}""", HttpStatusCode.Created);
        Assert.Equal(["ok", "ok"], (await RunAsync("tcp", Op("put", "client-7"), Op("put", "client-7"))).Select(r => r.GetProperty("ok").GetBoolean() ? "ok" : "?"));
        Assert.Empty(await HoldersAsync("name-0"));
        Assert.Equal(byPath.GetProperty("id").GetInt64(), (await HoldersAsync("name-2")).Single().GetProperty("id").GetInt64());
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task An_owner_name_alone_neither_ends_nor_takes_a_lease_taken_with_a_token(string transport)
    {
        // carol takes an id over /v1 without reuse: its lease is keyed by its secret token, not by her name.
        var carol = await PostAsync("/v1/leases", $$"""{"pool": "{{Pool}}", "owner": "carol", "ttl": 600}""", HttpStatusCode.Created);
        var id = carol.GetProperty("id").GetInt64();

        // idserver's put and get-with-expire-0 by the same name leave it alone.
        var results = await RunAsync(transport, Op("put", "carol"), Op("get", "carol", 0));
        Assert.True(results[0].GetProperty("ok").GetBoolean());
        Assert.NotEqual("name-0", Value(results[1]));
        // A reuse request naming her neither returns her token nor shortens her lease.
        var other = await PostAsync("/v1/leases", $$"""{"pool": "{{Pool}}", "owner": "carol", "ttl": 1, "reuse": true}""", HttpStatusCode.Created);
        Assert.NotEqual(id, other.GetProperty("id").GetInt64());
        Assert.NotEqual(carol.GetProperty("token").GetString(), other.GetProperty("token").GetString());

        var still = (await HoldersAsync("name-0")).Single();
        Assert.Equal(id, still.GetProperty("id").GetInt64());
        Assert.Equal(600, still.GetProperty("ttl").GetDouble());
        Assert.Equal(carol.GetProperty("expiresAt").GetString(), still.GetProperty("expiresAt").GetString());
    }

    private async Task<System.Text.Json.JsonElement> PostAsync(string url, string json, HttpStatusCode status)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Server.Client.PostAsync(new Uri(url, UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"POST {url}: {(int)response.StatusCode} {text}");
        return Parse(text);
    }
}
