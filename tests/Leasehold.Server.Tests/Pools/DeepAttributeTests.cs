using System.Net;

namespace Leasehold.Server.Tests.Pools;

/// <summary>
/// Attributes nested as deep as the attribute parser allows (found by the fuzzing harness, docs/fuzzing.md):
/// the answers that carry them, a few levels deeper still, are written, not refused with a 500.
/// </summary>
public sealed class DeepAttributeTests : PoolTestBase
{
    [Fact]
    public async Task AttributesNestedToTheParsersLimitAreAnsweredEverywhere()
    {
        // 63 objects inside the attributes object: depth 64, the most the parser takes.
        var attributes = "{\"os\":\"android\",\"deep\":" + string.Concat(Enumerable.Repeat("{\"a\":", 62)) + "1" + new string('}', 62) + "}";

        using (var put = await SendAsync(HttpMethod.Put, "/v1/resources/lab/deep", attributes))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        using (var acquire = await SendAsync(HttpMethod.Post, "/v1/leases", """{"pool":"/lab","require":{"os":"android"},"owner":"h"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, acquire.StatusCode);
        }
        foreach (var url in new[] { "/v1/resources/lab/deep", "/v1/resources?prefix=/lab", "/v1/pools/lab/resources.json", "/v1/history" })
        {
            using var get = await GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }
    }
}
