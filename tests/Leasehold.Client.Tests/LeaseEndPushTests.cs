using System.Net;
using System.Net.Sockets;
using Leasehold.Client.Transport;

namespace Leasehold.Client.Tests;

/// <summary>
/// LEASE_ENDED pushes on a native connection that come before anything watches the lease (a lease that ended while its
/// LEASE answer was being turned into a handle): the end is kept and handed to the watcher when it comes, even after many
/// ends nobody claimed. A fake peer pushes the ends, then answers a PING, so that the connection has read them all
/// before the test watches.
/// </summary>
public sealed class LeaseEndPushTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1_100)]
    public async Task An_end_pushed_before_the_lease_is_watched_reaches_its_watcher(int unclaimedBefore)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var peer = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(cts.Token);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var hello = await NativeFrames.ReadAsync(stream, cts.Token);
            Assert.Equal(NativeFrames.Hello, hello.Type);
            await stream.WriteAsync(NativeFrames.Welcome("lock"), cts.Token);
            var ping = await NativeFrames.ReadAsync(stream, cts.Token);
            Assert.Equal(0x02, ping.Type);
            // Ends of leases nobody will watch, then the one that will be.
            for (var n = 0; n < unclaimedBefore; n++)
            {
                await stream.WriteAsync(NativeFrames.LeaseEnded((ulong)(10_000 + n), "expired"), cts.Token);
            }
            await stream.WriteAsync(NativeFrames.LeaseEnded(42, "revoked"), cts.Token);
            await stream.WriteAsync(NativeFrames.Pong(ping.Id, ping.Payload), cts.Token);
            // Held open until the test is done with the connection.
            await NativeFrames.ReadAsync(stream, cts.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }, cts.Token);

        using var connection = await NativeConnection.ConnectAsync(new Uri($"leasehold://127.0.0.1:{port}"), new LeaseholdClientOptions(), TimeProvider.System, cts.Token);
        // Answered after every push before it: they have all been read.
        await connection.ConfirmAsync(TimeSpan.Zero, cts.Token);

        var ended = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.WatchLease(42, reason => ended.TrySetResult(reason));
        Assert.Equal("revoked", await ended.Task.WaitAsync(cts.Token));

        connection.Dispose();
        await peer.WaitAsync(cts.Token);
    }
}
