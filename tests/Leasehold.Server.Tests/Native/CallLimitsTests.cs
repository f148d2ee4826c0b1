using System.Text;
using Leasehold.Protocol.Native;

namespace Leasehold.Server.Tests.Native;

/// <summary>What a CALL cannot carry (docs/protocol.md, CALL): a route that streams, an answer larger than a frame.</summary>
public sealed class CallLimitsTests
{
    [Fact]
    public async Task A_call_of_the_event_stream_is_refused_at_once_and_the_connection_goes_on()
    {
        await using var server = await TestServer.StartAsync();
        var (connection, _) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var _ = connection;
        await connection.SendAsync(2, new CallMessage("GET", "/v1/events?prefix=/&snapshot=true", null));
        var refused = (await connection.ReceiveAsync()).As<ResultMessage>();
        Assert.Equal((400, "application/problem+json"), (refused.Status, refused.ContentType));
        var body = Encoding.UTF8.GetString(refused.Body!);
        Assert.Contains("\"code\":\"invalid-argument\"", body);
        Assert.Contains("WATCH", body);
        await connection.SendAsync(3, new PingMessage([1]));
        Assert.Equal(FrameType.Pong, (await connection.ReceiveAsync()).Type);
    }

    [Fact]
    public async Task An_answer_larger_than_a_frame_is_an_error_for_that_request_and_the_connection_goes_on()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Native:MaxFrameBytes=1024"]);
        var (connection, _) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using var _ = connection;
        for (var i = 0; i < 20; i++)
        {
            await connection.SendAsync((uint)(10 + i), new CallMessage("POST", "/v1/leases", Encoding.UTF8.GetBytes($$"""{"path": "/big/answer-{{i}}", "ttl": 60}""")));
            Assert.Equal(201, (await connection.ReceiveAsync()).As<ResultMessage>().Status);
        }
        await connection.SendAsync(2, new CallMessage("GET", "/v1/resources?prefix=/big", null));
        var error = (await connection.ReceiveAsync()).Error();
        Assert.Equal(("frame-too-large", (ushort)413), (error.Code, error.Status));
        await connection.SendAsync(3, new CallMessage("GET", "/v1/resources/big/answer-1", null));
        Assert.Equal(200, (await connection.ReceiveAsync()).As<ResultMessage>().Status);
    }
}
