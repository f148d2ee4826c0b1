using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Leasehold.Server.Tls;

/// <summary>
/// At start-up: which certificate the server presents, and a warning for what would surprise an operator (a
/// certificate out of its validity period, TLS configured but no https:// address to use it on).
/// </summary>
internal sealed partial class TlsStartupLog(ServerCertificate certificate, IServer server, IHostApplicationLifetime lifetime, ILogger<TlsStartupLog> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var current = certificate.Current.Certificate;
        LogCertificate(current.Subject, current.Thumbprint, current.NotAfter.ToUniversalTime(), certificate.CertFile);
        var now = DateTime.UtcNow;
        if (now > current.NotAfter.ToUniversalTime() || now < current.NotBefore.ToUniversalTime())
        {
            LogOutOfValidity(current.NotBefore.ToUniversalTime(), current.NotAfter.ToUniversalTime());
        }
        // Hosted services start before Kestrel binds: the addresses are known once the application has started.
        lifetime.ApplicationStarted.Register(CheckAddresses);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void CheckAddresses()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        if (!addresses.Any(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase)))
        {
            LogNoHttps(string.Join(", ", addresses));
        }
    }

    [LoggerMessage(LogLevel.Information, "TLS certificate {Subject}, thumbprint {Thumbprint}, valid until {NotAfter:u}, from {File}")]
    private partial void LogCertificate(string subject, string thumbprint, DateTime notAfter, string file);

    [LoggerMessage(LogLevel.Warning, "The TLS certificate is valid from {NotBefore:u} to {NotAfter:u} only: clients will refuse it now")]
    private partial void LogOutOfValidity(DateTime notBefore, DateTime notAfter);

    [LoggerMessage(LogLevel.Warning, "A TLS certificate is configured but no address is https:// ({Addresses}): every connection is plain HTTP")]
    private partial void LogNoHttps(string addresses);
}
