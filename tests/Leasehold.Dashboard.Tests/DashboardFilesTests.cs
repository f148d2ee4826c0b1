using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace Leasehold.Dashboard.Tests;

/// <summary>How the server serves the dashboard's files: types, revalidation, nothing from elsewhere, who may read them.</summary>
public sealed partial class DashboardFilesTests
{
    private static async Task<HttpResponseMessage> GetAsync(DashboardServer server, string url, Action<HttpRequestMessage>? configure = null, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(url, UriKind.Relative));
        configure?.Invoke(request);
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = DashboardServer.Timeout };
        return await client.SendAsync(request);
    }

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/dashboard/app.js", "text/javascript")]
    [InlineData("/dashboard/style.css", "text/css")]
    [InlineData("/dashboard/vendor/uPlot.iife.min.js", "text/javascript")]
    [InlineData("/dashboard/vendor/uPlot.min.css", "text/css")]
    [InlineData("/dashboard/vendor/uPlot.LICENSE.txt", "text/plain")]
    public async Task EachFileIsServedWithItsTypeAndAnETagThatSparesTheDownload(string url, string mediaType)
    {
        await using var server = await DashboardServer.StartAsync();
        using var response = await GetAsync(server, url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(response.Headers.CacheControl?.NoCache, "files are revalidated, so a new server version shows at once");
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.NotEmpty(body);
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);

        using var again = await GetAsync(server, url, r => r.Headers.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync());

        using var other = await GetAsync(server, url, r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\"")));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        using var head = await GetAsync(server, url, method: HttpMethod.Head);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(body.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ThePageLoadsNothingFromElsewhereAndForbidsItToo()
    {
        await using var server = await DashboardServer.StartAsync();
        using var response = await GetAsync(server, "/");
        var html = await response.Content.ReadAsStringAsync();
        var references = ReferenceAttribute().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("dashboard/app.js", references);
        Assert.Contains("dashboard/vendor/uPlot.iife.min.js", references);
        foreach (var reference in references)
        {
            // Relative to the page (so it also works behind a proxy under a prefix), or an inline data: URL.
            Assert.True(!reference.Contains("//", StringComparison.Ordinal) && !reference.StartsWith('/'), $"the page refers to {reference}");
        }
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        // Every file the page names is served.
        foreach (var reference in references.Where(r => r.StartsWith("dashboard/", StringComparison.Ordinal)))
        {
            using var file = await GetAsync(server, "/" + reference);
            Assert.True(file.StatusCode == HttpStatusCode.OK, $"{reference}: {(int)file.StatusCode}");
        }
    }

    [Fact]
    public async Task AnUnknownFileIsAProblemAndPostToTheRootIsStillLockds()
    {
        await using var server = await DashboardServer.StartAsync();
        using var missing = await GetAsync(server, "/dashboard/nothing.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);

        // gocept.lockd's XML-RPC endpoint keeps POST /.
        using var call = await GetAsync(server, "/", r => r.Content = new StringContent(
            "<?xml version='1.0'?><methodCall><methodName>system.listMethods</methodName><params></params></methodCall>",
            Encoding.UTF8, "text/xml"), HttpMethod.Post);
        Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        Assert.Contains("unlock", await call.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDashboardCanBeSwitchedOff()
    {
        await using var server = await DashboardServer.StartAsync("--Leasehold:Dashboard:Enabled=false");
        using var page = await GetAsync(server, "/");
        Assert.NotEqual(HttpStatusCode.OK, page.StatusCode);
        using var script = await GetAsync(server, "/dashboard/app.js");
        Assert.Equal(HttpStatusCode.NotFound, script.StatusCode);
    }

    [Fact]
    public async Task WithSecurityOnTheFilesArePublicAndTheDataIsNot()
    {
        await using var server = await DashboardServer.StartAsync(secured: true);
        using var page = await GetAsync(server, "/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        // Even with a credential that does not hold: the files carry no data.
        using var badKey = await GetAsync(server, "/dashboard/app.js", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key"));
        Assert.Equal(HttpStatusCode.OK, badKey.StatusCode);
        using var data = await GetAsync(server, "/v1/resources?prefix=/");
        Assert.Equal(HttpStatusCode.Unauthorized, data.StatusCode);
    }

    [GeneratedRegex("""(?:src|href)="([^"#]*)""")]
    private static partial Regex ReferenceAttribute();
}
