using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Server.Tests;

/// <summary>
/// A request that fails changes nothing, and a grant whose answer never reaches its client leaves no
/// lease behind. Each case once answered an error (or nothing) while the state changed anyway.
/// </summary>
public sealed class FailedRequestTests : ServerTestBase
{
    [Fact]
    public async Task Attributes_with_an_unpaired_surrogate_are_refused_and_nothing_is_declared()
    {
        using var put = await SendAsync(HttpMethod.Put, "/v1/resources/sp/r1", null, """{"bad":"\ud800"}""");
        await AssertProblemAsync(put, HttpStatusCode.BadRequest, "invalid-json");

        var resource = await GetResourceAsync("/sp/r1");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, resource.GetProperty("attributes").ValueKind);
        using var pool = await AcquireAsync("""{"pool": "/sp", "wait": 0}""");
        await AssertProblemAsync(pool, HttpStatusCode.UnprocessableEntity, "no-match");
        Assert.Equal(0, (await GetJsonAsync("/v1/stats")).GetProperty("leases").GetInt32());
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udc00x")]
    [InlineData("a\\ud800\\ud800")]
    public async Task An_owner_or_path_that_is_not_unicode_text_is_refused_and_nothing_is_granted(string escaped)
    {
        using var owner = await AcquireAsync($$"""{"path": "/u/a", "owner": "{{escaped}}"}""");
        await AssertProblemAsync(owner, HttpStatusCode.BadRequest, "invalid-json");
        using var path = await AcquireAsync($$"""{"path": "/u/{{escaped}}"}""");
        await AssertProblemAsync(path, HttpStatusCode.BadRequest, "invalid-json");
        using var session = await PostAsync("/v1/sessions", $$"""{"owner": "{{escaped}}"}""");
        await AssertProblemAsync(session, HttpStatusCode.BadRequest, "invalid-json");

        var stats = await GetJsonAsync("/v1/stats");
        Assert.Equal(0, stats.GetProperty("leases").GetInt32());
        Assert.Equal(0, stats.GetProperty("sessions").GetInt32());
        // A properly paired surrogate (one astral character) is text, and is kept as sent.
        var held = await AcquireOkAsync("""{"path": "/u/a", "owner": "\ud83d\udd12"}""");
        Assert.Equal("\U0001F512", (await GetJsonAsync($"/v1/leases/{held.Id}")).GetProperty("owner").GetString());
    }

    [Fact]
    public async Task Invalid_utf8_in_attributes_is_refused_not_replaced()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"name":"ab"}""").ToList();
        bytes.Insert(10, 0xFF);
        using var content = new ByteArrayContent([.. bytes]);
        content.Headers.ContentType = new("application/json");
        using var put = await Client.PutAsync(new Uri("/v1/resources/sp/r2", UriKind.Relative), content);
        await AssertProblemAsync(put, HttpStatusCode.BadRequest, "invalid-json");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await GetResourceAsync("/sp/r2")).GetProperty("attributes").ValueKind);
    }

    [Theory]
    [InlineData("zz\r\n{}\r\n0\r\n\r\n")] // a chunk size that is not hexadecimal
    [InlineData("5\r\n{\"pa\r\n0\r\n\r\n")] // a chunk whose data runs past its size
    public async Task A_malformed_chunked_body_is_the_clients_fault(string chunkedBody)
    {
        var (status, body) = await SendRawAsync(
            $"POST /v1/leases HTTP/1.1\r\nHost: {Server.BaseAddress.Authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunkedBody}");
        Assert.Equal(400, status);
        Assert.Equal("bad-request", Parse(body).GetProperty("code").GetString());
        Assert.Equal(0, (await GetJsonAsync("/v1/stats")).GetProperty("leases").GetInt32());
    }

    [Fact]
    public async Task A_waiter_whose_client_hangs_up_leaves_the_queue_and_is_never_granted()
    {
        // The server learns of the hang-up first, then the path is freed: the waiter must neither hold it
        // nor keep it from the next request. (A grant whose answer was fully written before the server
        // learned of a hang-up counts as delivered, as docs/http-api.md says: no test can order that race.)
        for (var round = 0; round < 10; round++)
        {
            var path = $"/grant/r{round}";
            var holder = await AcquireOkAsync($$"""{"path": "{{path}}"}""");
            using var waiter = new TcpClient();
            await waiter.ConnectAsync(Server.BaseAddress.Host, Server.BaseAddress.Port);
            var json = $$"""{"path": "{{path}}", "owner": "gone", "wait": 30}""";
            var request = $"POST /v1/leases HTTP/1.1\r\nHost: {Server.BaseAddress.Authority}\r\nContent-Type: application/json\r\nContent-Length: {json.Length}\r\n\r\n{json}";
            await waiter.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request));
            await WaitForQueueAsync(path, 1);

            waiter.Client.LingerState = new LingerOption(true, 0);
            waiter.Close();
            await WaitForQueueAsync(path, 0);
            await ReleaseOkAsync(holder);

            Assert.Empty(HolderIds(await GetResourceAsync(path)));
            var next = await AcquireOkAsync($$"""{"path": "{{path}}"}""");
            await ReleaseOkAsync(next);
        }
        Assert.Equal(0, (await GetJsonAsync("/v1/stats")).GetProperty("leases").GetInt32());
    }

    private async Task<(int Status, string Body)> SendRawAsync(string request)
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Server.BaseAddress.Host, Server.BaseAddress.Port, cts.Token);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cts.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(cts.Token);
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, text);
        var status = int.Parse(text.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = text[(split + 4)..];
        var start = body.IndexOf('{', StringComparison.Ordinal);
        var end = body.LastIndexOf('}');
        return (status, start >= 0 && end > start ? body[start..(end + 1)] : body);
    }
}
