using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>From C#, without Python: a burst of garbage datagrams does not stop the UDP listener.</summary>
public sealed class GarbageDatagramTests : IdServerTestBase
{
    [Fact]
    public async Task TwoHundredGarbageDatagramsDoNotStopTheListener()
    {
        var server = new IPEndPoint(IPAddress.Loopback, Endpoints.Udp!.Port);
        var random = new Random(20260101);
        using (var garbage = new UdpClient(AddressFamily.InterNetwork))
        {
            for (var i = 0; i < 200; i++)
            {
                var bytes = new byte[random.Next(0, i % 10 == 0 ? 20_000 : 600)];
                random.NextBytes(bytes);
                await garbage.SendAsync(bytes, server);
            }
        }

        // The burst may have filled the socket's buffer, so a lost request is sent again (bounded).
        using var client = new UdpClient(AddressFamily.InterNetwork);
        var request = Encoding.ASCII.GetBytes("""{"action": "get", "owner": "after-garbage", "expire": 30}""");
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        string? reply = null;
        while (reply is null && DateTime.UtcNow < deadline)
        {
            await client.SendAsync(request, server);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                reply = Encoding.ASCII.GetString((await client.ReceiveAsync(wait.Token)).Buffer);
            }
            catch (OperationCanceledException)
            {
            }
        }
        Assert.Equal("""{"error": 0, "value": "name-0"}""", reply);
        Assert.Equal("after-garbage", (await HoldersAsync("name-0")).Single().GetProperty("owner").GetString());
    }
}
