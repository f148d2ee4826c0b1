using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Leasehold.Server.Tests.Tls;

/// <summary>A new TLS connection to a server, to see which certificate it presents now.</summary>
internal static class TlsProbe
{
    /// <summary>The thumbprint of the certificate the server presents to a new connection (whether or not it is trusted).</summary>
    public static async Task<string> ServerThumbprintAsync(Uri server)
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port, cts.Token);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            // The test looks at the certificate; trusting it is not the point here.
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }, cts.Token);
        return new X509Certificate2(tls.RemoteCertificate!).Thumbprint;
    }

    /// <summary>Probes until <paramref name="thumbprint"/> is presented, at most <see cref="TestServer.Timeout"/>.</summary>
    public static async Task WaitForAsync(Uri server, string thumbprint)
    {
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        string seen;
        while ((seen = await ServerThumbprintAsync(server)) != thumbprint)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the server still presents {seen}, not {thumbprint}, after {TestServer.Timeout.TotalSeconds} s");
            await Task.Delay(50);
        }
    }
}
