using System.Net;
using System.Net.Sockets;
using Leasehold.Server.Compat.IdServer;
using Leasehold.Server.Tests.Pools;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>Settings are checked at start-up; the bound ports are published; the listeners stop with the server.</summary>
public sealed class ConfigTests : IdServerTestBase
{
    protected override bool StartsAtOnce => false;

    [Theory]
    [InlineData("--Leasehold:IdServer:Pool=/ids/y", "Leasehold:IdServer:Pool '/ids/y' is not one of the configured pools (Leasehold:Pools:N:Path)")]
    [InlineData("--Leasehold:IdServer:Pool=ids", "Leasehold:IdServer:Pool 'ids': ")]
    [InlineData("--Leasehold:IdServer:Port=70000", "Leasehold:IdServer:Port '70000' is not a port number from 0 to 65535 (0 picks a free port)")]
    [InlineData("--Leasehold:IdServer:Port=-1", "Leasehold:IdServer:Port '-1' is not a port number")]
    [InlineData("--Leasehold:IdServer:Host=example.org", "Leasehold:IdServer:Host 'example.org' is not an IP address ('::' or '*' for every IPv4 and IPv6 address)")]
    [InlineData("--Leasehold:IdServer:MaxConnections=0", "Leasehold:IdServer:MaxConnections '0' is not a positive number of connections")]
    [InlineData("--Leasehold:IdServer:IdleSeconds=0.5", "Leasehold:IdServer:IdleSeconds '0.5' is not a number of seconds from 1 to 86400")]
    public void AWrongSettingStopsStartUpNamingIt(string setting, string message)
    {
        // The later setting wins over the one in Args.
        var error = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(
            ["--data-dir", Path.Combine(WorkDir, "data"), .. Args(), setting]));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APortWithoutAPoolStopsStartUp()
    {
        var error = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(
            ["--data-dir", Path.Combine(WorkDir, "data"), "--Leasehold:IdServer:Port=9777"]));
        Assert.StartsWith("Leasehold:IdServer:Pool is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheServerDllRefusesToStartWithOneLine()
    {
        var result = await ChildProcess.RunServerAsync(WorkDir, "--urls", "http://127.0.0.1:0", "--data-dir", "data",
            "--Leasehold:Pools:0:Path=/ids/x", "--Leasehold:Pools:0:Ids=a,b", "--Leasehold:IdServer:Pool=/ids/z");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("leasehold: cannot start: Leasehold:IdServer:Pool '/ids/z' is not one of the configured pools (Leasehold:Pools:N:Path)", result.Stderr);
    }

    [Fact]
    public async Task WithoutTheSettingThereIsNoFrontEnd()
    {
        await StartAsync("--Leasehold:Pools:0:Path=/ids/x", "--Leasehold:Pools:0:Ids=a,b");
        Assert.Null(Server.App.Services.GetService<IdServerEndpoints>());
    }

    [Fact]
    public async Task PortZeroPicksFreePortsThatArePublished()
    {
        await StartAsync(Args());
        Assert.Equal(IPAddress.Loopback, Endpoints.Udp!.Address);
        Assert.Equal(IPAddress.Loopback, Endpoints.Tcp!.Address);
        Assert.NotEqual(0, Endpoints.Udp.Port);
        Assert.NotEqual(0, Endpoints.Tcp.Port);
        Assert.Equal("name-0", Value((await RunAsync("udp", Op("get", "a", 30)))[0]));
    }

    [Fact]
    public async Task APortInUseStopsStartUpNamingIt()
    {
        using var taken = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)taken.Client.LocalEndPoint!).Port;
        var error = await Assert.ThrowsAsync<IOException>(() => StartAsync(Args(more: $"--Leasehold:IdServer:Port={port}")));
        Assert.StartsWith($"the idserver front-end cannot listen on udp 127.0.0.1:{port}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppingTheServerClosesBothListeners()
    {
        await StartAsync(Args());
        var tcp = Endpoints.Tcp!;
        var udp = Endpoints.Udp!;
        using var connected = new TcpClient();
        await connected.ConnectAsync(tcp.Address, tcp.Port);
        var stream = connected.GetStream();
        await stream.WriteAsync("{\"action\": \"put\", \"owner\": \"a\"}\n"u8.ToArray());
        var buffer = new byte[256];
        Assert.True(await stream.ReadAsync(buffer).AsTask().WaitAsync(TestServer.Timeout) > 0);

        using (var cts = new CancellationTokenSource(TestServer.Timeout))
        {
            await Server.App.StopAsync(cts.Token);
        }
        Assert.Null(Endpoints.Udp);
        // The open connection is closed, new ones are refused, and the UDP port is free again.
        Assert.True(await IsClosedAsync(stream, buffer), "the open connection was not closed");
        using var refused = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => refused.ConnectAsync(tcp.Address, tcp.Port));
        using var rebound = new UdpClient(new IPEndPoint(IPAddress.Loopback, udp.Port));
    }

    /// <summary>
    /// A closed connection reads as end of stream or, if the kernel reset it, as an I/O error; both count.
    /// What is still in flight of the last reply (its newline may come in a read of its own) is skipped.
    /// </summary>
    private static async Task<bool> IsClosedAsync(NetworkStream stream, byte[] buffer)
    {
        try
        {
            for (var reads = 0; reads < 4; reads++)
            {
                if (await stream.ReadAsync(buffer).AsTask().WaitAsync(TestServer.Timeout) == 0)
                {
                    return true;
                }
            }
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
