using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Leasehold.LoadGen;

/// <summary>
/// The physical bound of a cycle on this machine: two round trips of small messages over loopback TCP
/// (a request the size of a small acquire out and its answer back, then one the size of a release), to an
/// echo server in another process (<see cref="EchoServer"/>). No lock, no state: what any request/answer
/// protocol pays for the kernel and the two processes' scheduling.
/// </summary>
internal sealed class EchoTarget(LoadOptions options) : ILockTarget
{
    private const int AcquireBytes = 64;
    private const int ReleaseBytes = 32;

    private readonly Socket?[] _sockets = new Socket?[Math.Max(1, options.Clients)];
    private readonly byte[][] _buffers = [.. Enumerable.Range(0, Math.Max(1, options.Clients)).Select(_ => new byte[AcquireBytes])];

    public string Name => "loopback echo";

    public bool HasFences => false;

    public object Prepare(int client, string path, double? waitSeconds) => path;

    public async Task<(Held? Lock, string? Error)> AcquireAsync(int client, object prepared, CancellationToken cancel)
        => await RoundTripAsync(client, AcquireBytes, cancel) is { } error ? (null, error) : (new Held(0, prepared), null);

    public Task<string?> ReleaseAsync(int client, Held held, CancellationToken cancel) => RoundTripAsync(client, ReleaseBytes, cancel);

    private async Task<string?> RoundTripAsync(int client, int size, CancellationToken cancel)
    {
        try
        {
            var socket = _sockets[client] ??= await ConnectAsync(cancel);
            var buffer = _buffers[client].AsMemory(0, size);
            await socket.SendAsync(buffer, SocketFlags.None, cancel);
            for (var read = 0; read < size;)
            {
                var n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancel);
                if (n == 0)
                {
                    return "echo: connection closed";
                }
                read += n;
            }
            return null;
        }
        catch (SocketException e)
        {
            return $"echo: {e.SocketErrorCode}";
        }
    }

    private async Task<Socket> ConnectAsync(CancellationToken cancel)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, options.Urls[0].Port), cancel);
        return socket;
    }

    public async Task<string?> CheckReadyAsync(CancellationToken cancel)
    {
        try
        {
            using var socket = await ConnectAsync(cancel);
            return null;
        }
        catch (SocketException e)
        {
            return $"echo server on port {options.Urls[0].Port}: {e.SocketErrorCode}";
        }
    }

    public Task<StatsReply?> StatsAsync(CancellationToken cancel) => Task.FromResult<StatsReply?>(null);

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket?.Dispose();
        }
    }
}

/// <summary>
/// The echo server the load generator starts as a child process (<c>--echo-server PORT</c>): echoes every
/// byte back on each connection until the process is killed. With <c>kestrel</c> after the port it does so as a
/// Kestrel connection handler, on the socket transport configured as Leasehold's native listener configures its own.
/// </summary>
internal static class EchoServer
{
    public const string Kestrel = "kestrel";

    public static async Task<int> RunKestrelAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // As the native listener's transport: answers on the thread that read the request, into a pooled block.
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.UnsafePreferInlineScheduling = true;
            sockets.WaitForDataBeforeAllocatingBuffer = false;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseConnectionHandler<KestrelEcho>()));
        await using var app = builder.Build();
        await app.RunAsync();
        return 0;
    }

    private sealed class KestrelEcho : ConnectionHandler
    {
        public override async Task OnConnectedAsync(ConnectionContext connection)
        {
            var input = connection.Transport.Input;
            var output = connection.Transport.Output;
            while (true)
            {
                var read = await input.ReadAsync();
                foreach (var segment in read.Buffer)
                {
                    output.Write(segment.Span);
                }
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || (await output.FlushAsync()).IsCompleted)
                {
                    return;
                }
            }
        }
    }

    public static async Task<int> RunAsync(int port)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(512);
        while (true)
        {
            var connection = await listener.AcceptAsync();
            connection.NoDelay = true;
            _ = Task.Run(() => EchoAsync(connection));
        }
    }

    private static async Task EchoAsync(Socket connection)
    {
        using var _ = connection;
        var buffer = new byte[4096];
        try
        {
            while (await connection.ReceiveAsync(buffer, SocketFlags.None) is var n and > 0)
            {
                await connection.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            // the load generator hung up
        }
    }
}
