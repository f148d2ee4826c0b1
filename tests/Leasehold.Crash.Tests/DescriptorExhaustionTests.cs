using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Crash.Tests;

/// <summary>
/// The real server as a process under a low descriptor limit, flooded with more idle connections (HTTP
/// and idserver TCP) than it has descriptors: it must neither abort nor stop answering. Its default
/// connection limits, derived from that descriptor limit, are what keep it below the limit.
/// </summary>
public sealed class DescriptorExhaustionTests : IDisposable
{
    private const int Descriptors = 1024;
    private const int HttpFlood = 1100;
    private const int IdServerFlood = 400;
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "leasehold-fd-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task AFloodBeyondTheDescriptorLimitNeitherAbortsNorStopsTheServer()
    {
        var idServerPort = ServerProcess.FreePort();
        using var server = new ServerProcess(_root,
            "--Leasehold:KeepAliveSeconds=2",
            "--Leasehold:Pools:0:Path=/ids/x", "--Leasehold:Pools:0:Ids=name-0..name-2",
            "--Leasehold:IdServer:Pool=/ids/x", $"--Leasehold:IdServer:Port={idServerPort}", "--Leasehold:IdServer:IdleSeconds=2")
        {
            DescriptorLimit = Descriptors,
        };
        await server.StartAsync(StartDeadline);

        var flood = new List<Socket>();
        try
        {
            var httpOpened = await FloodAsync(flood, new IPEndPoint(IPAddress.Loopback, server.Port), HttpFlood);
            var idOpened = await FloodAsync(flood, new IPEndPoint(IPAddress.Loopback, idServerPort), IdServerFlood);
            Assert.False(server.HasExited, $"the server exited under the flood:{Environment.NewLine}{server.OutputTail}");
            Assert.True(httpOpened + idOpened > Descriptors,
                $"only {httpOpened} + {idOpened} connections were accepted by the kernel; the flood never passed the limit of {Descriptors}:{Environment.NewLine}{server.OutputTail}");

            // With the flood still connected (the idle ones closed by the server's timeouts), new clients are served.
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            await EventuallyAsync(async () =>
            {
                using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
                return response.StatusCode == HttpStatusCode.OK;
            }, "the server answers /healthz again", server);

            using var acquired = await http.PostAsJsonAsync(new Uri("/v1/leases", UriKind.Relative), new { path = "/after-flood", owner = "A" });
            Assert.Equal(HttpStatusCode.Created, acquired.StatusCode);
            var lease = await acquired.Content.ReadFromJsonAsync<LeaseView>();
            using var release = new HttpRequestMessage(HttpMethod.Delete, new Uri($"/v1/leases/{lease!.Id}", UriKind.Relative));
            release.Headers.TryAddWithoutValidation("Leasehold-Token", lease.Token);
            using var released = await http.SendAsync(release);
            Assert.Equal(HttpStatusCode.NoContent, released.StatusCode);

            string? reply = null;
            await EventuallyAsync(async () =>
            {
                reply = await IdServerGetAsync(idServerPort);
                return reply is not null && reply.Contains("\"value\"", StringComparison.Ordinal);
            }, "the idserver front-end grants an id again", server);
            Assert.Equal("{\"error\": 0, \"value\": \"name-0\"}", reply);
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }

        Assert.False(server.HasExited, $"the server exited:{Environment.NewLine}{server.OutputTail}");
        Assert.DoesNotContain("Out of memory", server.OutputTail, StringComparison.Ordinal);
    }

    /// <summary>Opens up to <paramref name="count"/> idle connections; stops early when connecting stalls.</summary>
    private static async Task<int> FloodAsync(List<Socket> sockets, IPEndPoint endPoint, int count)
    {
        var opened = 0;
        for (var i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            sockets.Add(socket);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await socket.ConnectAsync(endPoint, timeout.Token);
                opened++;
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                // The server's backlog is full: it stopped accepting. What follows will show whether it recovers.
                break;
            }
        }
        return opened;
    }

    /// <summary>One idserver get over a fresh TCP connection; null when the connection fails or closes unanswered.</summary>
    private static async Task<string?> IdServerGetAsync(int port)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("{\"action\": \"get\", \"owner\": \"after\", \"expire\": 30}\n"), timeout.Token);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            return await reader.ReadLineAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
        {
            return null;
        }
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what, ServerProcess server)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(server.HasExited, $"the server exited while waiting until {what}:{Environment.NewLine}{server.OutputTail}");
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Refused while the flood holds the limit: try again until the bound.
            }
            Assert.True(clock.Elapsed < Bound, $"timed out after {Bound.TotalSeconds} s waiting until {what}:{Environment.NewLine}{server.OutputTail}");
            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
