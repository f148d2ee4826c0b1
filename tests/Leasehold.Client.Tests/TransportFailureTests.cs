using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Leasehold.Server.Tls;
using Microsoft.Extensions.Options;

namespace Leasehold.Client.Tests;

/// <summary>
/// However the transport fails — the server killed in the middle of a request, a server that stops answering (an
/// <see cref="HttpClient.Timeout"/> over HTTP, the heartbeat natively), a TLS server whose certificate the client does not
/// trust, a client disposed under its handles — a public method throws the documented family
/// (<see cref="LeaseholdUnavailableException"/>, with the transport's exception as its cause), never the raw
/// <see cref="HttpRequestException"/>, <see cref="IOException"/>, <see cref="SocketException"/> or <see cref="AuthenticationException"/>.
/// </summary>
public abstract class TransportFailureTests : ContractTestBase
{
    [Fact]
    public async Task A_server_killed_in_the_middle_of_a_request_is_LeaseholdUnavailableException()
    {
        // The relay passes the acquire to the server and loses the answer; then it dies as a killed node does (reset).
        await using var relay = new DyingRelay(Server.PortOf(Transport), dropAnswers: true, Transport);
        var client = CreateClient(o =>
        {
            o.Server = relay.Address;
            o.Retries = 0;
        });

        var acquiring = client.AcquireAsync(PathOptions("/failure/killed", 30));
        await WaitUntilAsync(async () => (await Server.StatsAsync()).Leases == 1, "the server received the acquire");
        Assert.False(acquiring.IsCompleted);
        relay.Kill();

        var thrown = await Assert.ThrowsAsync<LeaseholdUnavailableException>(() => Bounded(acquiring));
        Assert.Equal(relay.Address, thrown.Server);
        Assert.Equal("unreachable", thrown.Code);
        // The cause is the transport's: the reset connection.
        Assert.IsAssignableFrom(Transport == ClientTransport.Native ? typeof(IOException) : typeof(HttpRequestException), thrown.InnerException);
    }

    [Fact]
    public async Task A_server_that_stops_answering_is_LeaseholdUnavailableException_once_the_transport_gives_up()
    {
        await using var proxy = new BlackholeProxy(Server.PortOf(Transport), Transport == ClientTransport.Native);
        var options = new LeaseholdClientOptions { Server = proxy.Address, Retries = 0 };
        if (Transport == ClientTransport.Http)
        {
            // Over HTTP: the HttpClient's own timeout (a TaskCanceledException the caller did not ask for).
            using var http = new HttpClient();
            using var client = new LeaseholdClient(http, Options.Create(options));
            http.Timeout = TimeSpan.FromMilliseconds(300);
            await Bounded(client.GetResourceAsync("/failure/silent")); // Through, while the network still works.
            proxy.Partition();

            var thrown = await Assert.ThrowsAsync<LeaseholdUnavailableException>(() => Bounded(client.GetResourceAsync("/failure/silent")));
            var timedOut = Assert.IsType<TaskCanceledException>(thrown.InnerException);
            Assert.IsType<TimeoutException>(timedOut.InnerException);
        }
        else
        {
            // Natively: the heartbeat, on the client's clock. A connection that heard nothing for a heartbeat pings, and one
            // whose ping goes unanswered for another is given up.
            var clock = new TestClock();
            options.TimeProvider = clock;
            options.ConnectTimeout = TimeSpan.FromSeconds(5);
            using var client = new LeaseholdClient(options);
            await Bounded(client.GetResourceAsync("/failure/silent"));
            proxy.Partition();

            var call = client.GetResourceAsync("/failure/silent");
            var heartbeat = await clock.WaitArmedAsync(TimeSpan.FromSeconds(5), 1, "the heartbeat");
            clock.Advance(heartbeat);
            Assert.False(call.IsCompleted, "given up after one heartbeat: its ping had no time to be answered");
            clock.Advance(heartbeat);

            var thrown = await Assert.ThrowsAsync<LeaseholdUnavailableException>(() => Bounded(call));
            Assert.IsAssignableFrom<IOException>(thrown.InnerException);
            Assert.Contains("did not answer a ping", thrown.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_TLS_server_with_an_untrusted_certificate_is_LeaseholdUnavailableException_at_once()
    {
        await using var server = new UntrustedTlsServer();
        var clock = new TestClock();
        using var client = new LeaseholdClient(new LeaseholdClientOptions
        {
            Server = new Uri(Transport == ClientTransport.Native ? $"leaseholds://127.0.0.1:{server.Port}" : $"https://127.0.0.1:{server.Port}/"),
            Retries = 3,
            TimeProvider = clock,
        });

        var thrown = await Assert.ThrowsAsync<LeaseholdUnavailableException>(() => Bounded(client.GetResourceAsync("/failure/tls")));

        Assert.Contains("TLS handshake failed", thrown.Message, StringComparison.Ordinal);
        Assert.True(ClientTls.IsCertificateFailure(thrown.InnerException!), thrown.InnerException?.ToString());
        Assert.IsType(Transport == ClientTransport.Native ? typeof(AuthenticationException) : typeof(HttpRequestException), thrown.InnerException);
        // Not retried: a certificate the client distrusts stays distrusted, so no pause was ever armed.
        Assert.Equal(0, clock.CountArmed(d => d < TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_handle_outliving_its_client_is_disposed_quietly_and_the_disposed_client_says_so()
    {
        var client = CreateClient(o => o.Retries = 0);
        var lease = await Bounded(client.AcquireAsync(PathOptions("/failure/disposed", 30)));

        client.Dispose();

        await Bounded(lease.DisposeAsync().AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Bounded(client.GetResourceAsync("/failure/disposed")));
    }

    /// <summary>A TLS listener whose certificate comes from an authority nobody trusts; it only ever shakes hands.</summary>
    private sealed class UntrustedTlsServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _certificate;
        private readonly Task _accepting;

        public UntrustedTlsServer()
        {
            var now = DateTimeOffset.UtcNow;
            using var authority = CertificateMaker.MakeAuthority("Untrusted Test CA", now);
            _certificate = CertificateMaker.Issue(authority, "server", ["localhost"], [IPAddress.Loopback], client: false, now, now.AddDays(1));
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _accepting = AcceptAsync();
        }

        public int Port { get; }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    _ = HandshakeAsync(client);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        private async Task HandshakeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    await using var tls = new SslStream(client.GetStream());
                    await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                }
                catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or ObjectDisposedException)
                {
                    // The client refused the certificate: what the test is about.
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _certificate.Dispose();
            _stop.Dispose();
        }
    }
}
