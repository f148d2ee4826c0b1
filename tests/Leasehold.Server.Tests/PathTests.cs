using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Leasehold.Protocol;

namespace Leasehold.Server.Tests;

/// <summary>Paths through JSON and through the route: percent-decoding, exact (case-sensitive) matching.</summary>
public sealed class PathTests : ServerTestBase
{
    [Fact]
    public async Task PercentEncodedRouteSegmentsNameTheSamePathAsJson()
    {
        var space = await AcquireOkAsync("""{"path":"/lab/a b"}""");
        var umlaut = await AcquireOkAsync("""{"path":"/ü"}""");

        var spaced = await GetResourceAsync("/lab/a%20b");
        Assert.Equal("/lab/a b", spaced.GetProperty("path").GetString());
        Assert.Equal([space.Id], HolderIds(spaced));

        var encoded = await GetResourceAsync("/%C3%BC");
        Assert.Equal("/ü", encoded.GetProperty("path").GetString());
        Assert.Equal([umlaut.Id], HolderIds(encoded));

        var fence = await GetJsonAsync($"/v1/fences/lab/a%20b?fence={space.Fence}");
        Assert.True(fence.GetProperty("current").GetBoolean());

        // The listing shows the decoded text too.
        var listing = await GetJsonAsync("/v1/resources?prefix=/lab");
        Assert.Equal(["/lab/a b"], listing.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task EncodedCharactersThatAreNotSlashesAreOrdinarySegmentText()
    {
        var held = await AcquireOkAsync("""{"path":"/a%b/50%/x?y"}""");
        var resource = await GetResourceAsync("/a%25b/50%25/x%3Fy");
        Assert.Equal("/a%b/50%/x?y", resource.GetProperty("path").GetString());
        Assert.Equal([held.Id], HolderIds(resource));
    }

    [Fact]
    public async Task PathsAreCaseSensitive()
    {
        var upper = await AcquireOkAsync("""{"path":"/A"}""");
        var lower = await AcquireOkAsync("""{"path":"/a"}""");
        Assert.NotEqual(upper.Id, lower.Id);
        Assert.Equal([upper.Id], HolderIds(await GetResourceAsync("/A")));
        Assert.Equal([lower.Id], HolderIds(await GetResourceAsync("/a")));

        await ReleaseOkAsync(upper);
        Assert.Empty(HolderIds(await GetResourceAsync("/A")));
        Assert.Equal([lower.Id], HolderIds(await GetResourceAsync("/a")));
    }

    [Fact]
    public async Task NoUnicodeNormalization()
    {
        // "é" precomposed and "e" + combining acute are different paths.
        var composed = await AcquireOkAsync("""{"path":"/caf\u00e9"}""");
        var decomposed = await AcquireOkAsync("""{"path":"/cafe\u0301"}""");
        Assert.Equal([composed.Id], HolderIds(await GetResourceAsync("/caf%C3%A9")));
        Assert.Equal([decomposed.Id], HolderIds(await GetResourceAsync("/cafe%CC%81")));
    }

    [Fact]
    public async Task RootIsAPathThatCoversEverything()
    {
        var root = await AcquireOkAsync("""{"path":"/"}""");
        // GET /v1/resources/ is the listing route, so the root's holders are read from the listing.
        var listing = await GetJsonAsync("/v1/resources?prefix=/");
        var first = listing.GetProperty("resources")[0];
        Assert.Equal("/", first.GetProperty("path").GetString());
        Assert.Equal([root.Id], HolderIds(first));
        Assert.True((await GetJsonAsync($"/v1/fences?fence={root.Fence}")).GetProperty("current").GetBoolean());
        Assert.True((await GetJsonAsync($"/v1/fences/any/thing?fence={root.Fence}")).GetProperty("current").GetBoolean());
        using var below = await AcquireAsync("""{"path":"/any/thing"}""");
        var problem = await AssertProblemAsync(below, HttpStatusCode.Conflict, "locked");
        Assert.Equal([root.Id], HolderIds(problem));
    }

    [Theory]
    [InlineData("/v1/resources/a/../b")]
    [InlineData("/v1/resources/a/./b")]
    [InlineData("/v1/fences/a/../b?fence=1")]
    public async Task DotSegmentsInTheRouteAreInvalidPaths(string target)
    {
        // HttpClient removes dot segments before sending, so this request goes over a bare socket.
        var (status, contentType, body) = await SendRawGetAsync(target);
        Assert.Equal(400, status);
        Assert.Equal(ProblemDto.ContentType, contentType);
        Assert.Equal("invalid-path", Parse(body).GetProperty("code").GetString());
    }

    [Fact]
    public async Task RouteTargetsInAbsoluteFormOrWithAnEncodedPrefixNameTheSamePath()
    {
        var held = await AcquireOkAsync("""{"path":"/lab/a b"}""");
        var origin = Server.BaseAddress.GetLeftPart(UriPartial.Authority);
        foreach (var target in new[] { $"{origin}/v1/resources/lab/a%20b", "/v1/%72esources/lab/a%20b", "/V1/RESOURCES/lab/a%20b" })
        {
            var (status, _, body) = await SendRawGetAsync(target);
            Assert.True(status == 200, $"{target}: {status} {body}");
            var resource = Parse(body);
            Assert.Equal("/lab/a b", resource.GetProperty("path").GetString());
            Assert.Equal([held.Id], HolderIds(resource));
        }
        var (fenceStatus, _, fenceBody) = await SendRawGetAsync($"{origin}/v1/fences/lab/a%20b?fence={held.Fence}");
        Assert.Equal(200, fenceStatus);
        Assert.Equal("/lab/a b", Parse(fenceBody).GetProperty("path").GetString());
        Assert.True(Parse(fenceBody).GetProperty("current").GetBoolean());
    }

    private async Task<(int Status, string? ContentType, string Body)> SendRawGetAsync(string target)
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Server.BaseAddress.Host, Server.BaseAddress.Port, cts.Token);
        await using var stream = tcp.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: {Server.BaseAddress.Authority}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cts.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(cts.Token);
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, text);
        var head = text[..split].Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var contentType = head.Skip(1)
            .Where(h => h.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))
            .Select(h => h["Content-Type:".Length..].Trim().Split(';')[0])
            .FirstOrDefault();
        var body = text[(split + 4)..];
        // A small answer without Connection: keep-alive comes either with Content-Length or chunked.
        if (head.Any(h => h.Equals("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)))
        {
            var size = Convert.ToInt32(body[..body.IndexOf("\r\n", StringComparison.Ordinal)], 16);
            body = body.Substring(body.IndexOf("\r\n", StringComparison.Ordinal) + 2, size);
        }
        return (status, contentType, body);
    }
}
