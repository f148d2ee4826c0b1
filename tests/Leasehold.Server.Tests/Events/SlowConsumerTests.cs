using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Leasehold.Server.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Events;

/// <summary>A consumer that stops reading is cut off; the writer, the other streams and memory do not notice it.</summary>
public class SlowConsumerTests
{
    [Fact]
    public async Task A_stalled_reader_is_cut_off_while_another_stream_gets_every_event_and_the_writer_answers()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Events:Buffer=8", "--Leasehold:Durability=memory"]);
        var hub = server.App.Services.GetRequiredService<EventHub>();
        var start = hub.Revision;
        var api = new Api(server.Client);

        // A raw socket with a small receive window that asks for the stream and then never reads.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(RawPeer.EndPointOf(server.BaseAddress));
        await stalled.SendAsync(Encoding.ASCII.GetBytes($"GET /v1/events HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\n\r\n"));
        await using var healthy = await SseStream.OpenAsync(server.CreateClient(), "/v1/events");
        await WaitUntil(() => hub.OpenStreams == 2, "both streams are open");

        // Big events (a resource's attributes) fill the stalled connection's buffers, then its stream's buffer. The
        // healthy consumer reads each event as it comes, so only the stalled one falls behind (a healthy one that read
        // nothing until the end would be as slow, and rightly cut off too, once the loopback's buffers filled).
        var attributes = "{\"blob\": \"" + new string('x', 48 * 1024) + "\"}";
        var clock = Stopwatch.StartNew();
        var declared = 0;
        var events = new List<SseMessage>();
        for (; declared < 2000 && hub.CutOffs == 0; declared++)
        {
            Assert.True(clock.Elapsed < TestServer.Timeout, $"no cut-off after {declared} events of 48 KiB");
            using var response = await api.SendAsync(HttpMethod.Put, "/v1/resources/lab/big", null, attributes);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            events.Add(await healthy.NextEventAsync());
        }
        Assert.Equal(1, hub.CutOffs);
        // Its place is given back once its connection is dropped (it cannot even be told).
        await WaitUntil(() => hub.OpenStreams == 1, "the stalled stream is gone");

        // The other stream got every event, in order, and goes on.
        Assert.Equal(declared, events.Count);
        Assert.Equal(Enumerable.Range(1, declared).Select(i => start + i), events.Select(e => e.Revision));
        await api.AssertServesAsync("/lab/after");
        Assert.Equal("granted", (await healthy.NextEventAsync()).Event);

        // What the stalled socket got ends where the server dropped it, or (when the server's last words still fitted
        // in its buffers) with the stream's end after cut-off, the connection kept for another request: either way no
        // more than its buffers held.
        stalled.ReceiveTimeout = (int)TestServer.Timeout.TotalMilliseconds;
        var received = 0L;
        var buffer = new byte[64 * 1024];
        var tail = "";
        try
        {
            int n;
            while ((n = stalled.Receive(buffer)) > 0)
            {
                received += n;
                tail = (tail + Encoding.ASCII.GetString(buffer, 0, n))[^Math.Min(tail.Length + n, 1024)..];
                if (tail.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
                {
                    Assert.Contains("event: cut-off", tail, StringComparison.Ordinal);
                    break;
                }
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Dropped with a reset: what was in flight is lost, as it should be.
        }
        Assert.True(received < (long)declared * attributes.Length, $"the stalled reader got {received} bytes of {declared} events");
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TestServer.Timeout, $"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }
}
