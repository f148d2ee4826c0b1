using System.Net;
using System.Text.Json;

namespace Leasehold.Server.Tests.Pools;

/// <summary><c>PUT</c> and <c>DELETE /v1/resources/{path}</c>: declaring, re-declaring and removing resources, and what they refuse.</summary>
public sealed class DeclarationTests : PoolTestBase
{
    [Fact]
    public async Task PutDeclaresAResourceAndAnswersItsPathAndAttributes()
    {
        const string attributes = """{"id":"phone-7","hostname":"rack2","online":true,"os":"android","tags":["5g"],"location":{"rack":2}}""";
        var declared = await DeclareAsync("/lab/phone-7", attributes);

        Assert.Equal(["attributes", "path"], declared.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("/lab/phone-7", declared.GetProperty("path").GetString());
        AssertJsonEqual(attributes, declared.GetProperty("attributes"));

        var resource = await GetJsonAsync("/v1/resources/lab/phone-7");
        AssertJsonEqual(attributes, resource.GetProperty("attributes"));
        Assert.Equal(0, resource.GetProperty("holders").GetArrayLength());
        Assert.Equal(0, resource.GetProperty("queue").GetArrayLength());
        // The parent is a path like any other, not a declared resource.
        Assert.Null(await AttributesAsync("/lab"));
    }

    [Fact]
    public async Task ASegmentIsPercentDecodedLikeEveryOtherRoute()
    {
        var declared = await DeclareAsync("/lab/my%20phone", """{"os":"android"}""");
        Assert.Equal("/lab/my phone", declared.GetProperty("path").GetString());
        AssertJsonEqual("""{"os":"android"}""", (await AttributesAsync("/lab/my%20phone"))!.Value);
    }

    [Fact]
    public async Task PutAgainReplacesTheAttributesWithoutDisturbingTheHolder()
    {
        await DeclareAsync("/lab/a", """{"os":"linux","version":1}""");
        var lease = await AcquireOkAsync("""{"pool":"/lab","require":{"os":"linux"},"owner":"h"}""");

        var replaced = await DeclareAsync("/lab/a", """{"os":"linux","version":2}""");
        AssertJsonEqual("""{"os":"linux","version":2}""", replaced.GetProperty("attributes"));
        AssertJsonEqual("""{"os":"linux","version":2}""", (await AttributesAsync("/lab/a"))!.Value);

        Assert.Equal([Id(lease)], await HolderIdsAsync("/lab/a"));
        var again = await GetJsonAsync($"/v1/leases/{Id(lease)}");
        Assert.Equal(lease.GetProperty("fence").GetInt64(), again.GetProperty("fence").GetInt64());
        // The lease shows its resources with their attributes as they are now.
        AssertJsonEqual("""{"os":"linux","version":2}""", Chosen(again).Single().Attributes);
        await ReleaseOkAsync(lease);
    }

    [Fact]
    public async Task DeleteRemovesAFreeResource()
    {
        await DeclareAsync("/lab/a", """{"os":"linux"}""");
        using (var response = await SendAsync(HttpMethod.Delete, "/v1/resources/lab/a"))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
        Assert.Null(await AttributesAsync("/lab/a"));
        await AssertNoPoolAsync("/lab");
        var problem = await AcquireFailsAsync("""{"pool":"/lab","require":{"os":"linux"}}""", HttpStatusCode.UnprocessableEntity, "no-match");
        Assert.Contains("/lab", Detail(problem), StringComparison.Ordinal);

        using var twice = await SendAsync(HttpMethod.Delete, "/v1/resources/lab/a");
        var gone = await AssertProblemAsync(twice, HttpStatusCode.NotFound, "not-found");
        Assert.Contains("/lab/a", Detail(gone), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteOfAHeldResourceIsResourceBusyAndKeepsIt()
    {
        await DeclareAsync("/lab/a", """{"os":"linux"}""");
        var lease = await AcquireOkAsync("""{"pool":"/lab","owner":"h"}""");

        using (var response = await SendAsync(HttpMethod.Delete, "/v1/resources/lab/a"))
        {
            var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, "resource-busy");
            Assert.Contains($"lease {Id(lease)}", Detail(problem), StringComparison.Ordinal);
        }
        AssertJsonEqual("""{"os":"linux"}""", (await AttributesAsync("/lab/a"))!.Value);
        Assert.Equal([Id(lease)], await HolderIdsAsync("/lab/a"));

        await ReleaseOkAsync(lease);
        using var after = await SendAsync(HttpMethod.Delete, "/v1/resources/lab/a");
        Assert.Equal(HttpStatusCode.NoContent, after.StatusCode);
    }

    [Fact]
    public async Task DeleteOfAPathThatIsOnlyLockedIsNotFound()
    {
        // Held by name but never declared: nothing to remove, and the lock is untouched.
        var lease = await AcquireOkAsync("""{"path":"/plain/x"}""");
        using var response = await SendAsync(HttpMethod.Delete, "/v1/resources/plain/x");
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Equal([Id(lease)], await HolderIdsAsync("/plain/x"));
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("\"os=linux\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("{\"os\":")]
    [InlineData("")]
    public async Task PutWithABodyThatIsNotAJsonObjectIsInvalidJson(string body)
    {
        using var response = await SendAsync(HttpMethod.Put, "/v1/resources/lab/a", body);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        Assert.Null(await AttributesAsync("/lab/a"));
    }

    [Fact]
    public async Task PutWithoutABodyIsInvalidJson()
    {
        using var response = await SendAsync(HttpMethod.Put, "/v1/resources/lab/a");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
        Assert.Null(await AttributesAsync("/lab/a"));
    }

    [Theory]
    [InlineData("/v1/resources/lab/a%2Fb")]
    [InlineData("/v1/resources/lab//b")]
    public async Task PutAndDeleteOnAnInvalidPathAreInvalidPath(string url)
    {
        using (var put = await SendAsync(HttpMethod.Put, url, """{"os":"linux"}"""))
        {
            await AssertProblemAsync(put, HttpStatusCode.BadRequest, "invalid-path");
        }
        using var delete = await SendAsync(HttpMethod.Delete, url);
        await AssertProblemAsync(delete, HttpStatusCode.BadRequest, "invalid-path");
        await AssertNoPoolAsync("/lab");
    }

    [Fact]
    public async Task AnOversizedDeclarationIsPayloadTooLarge()
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["blob"] = new string('x', 70 * 1024) });
        using var response = await SendAsync(HttpMethod.Put, "/v1/resources/lab/a", body);
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        Assert.Null(await AttributesAsync("/lab/a"));
    }

    [Fact]
    public async Task UndeclaredPathsShowNullAttributes()
    {
        var resource = await GetJsonAsync("/v1/resources/nothing/here");
        Assert.Equal(JsonValueKind.Null, resource.GetProperty("attributes").ValueKind);
    }
}
