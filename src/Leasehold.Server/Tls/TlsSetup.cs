using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Leasehold.Server.Tls;

/// <summary>
/// Turns <c>Leasehold:Tls</c> into Kestrel's HTTPS settings: every https:// address the server listens on (the
/// HTTP API, Locker and gocept.lockd, which share its port) gets the certificate of <see cref="ServerCertificate"/>,
/// reloaded when its files change, and asks for a client certificate when client authorities are set.
/// </summary>
public static class TlsSetup
{
    public const string DefaultHttpsUrl = "https://127.0.0.1:8765";

    /// <summary>
    /// Reads and checks the settings and the files they name (a problem stops start-up with one line), and
    /// configures Kestrel. Returns null when TLS is off.
    /// </summary>
    public static ServerCertificate? AddLeaseholdTls(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(TlsOptions.Section).Get<TlsOptions>() ?? new TlsOptions();
        var urls = (builder.Configuration["urls"] ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (!options.Enabled)
        {
            if (urls.FirstOrDefault(u => u.StartsWith("https:", StringComparison.OrdinalIgnoreCase)) is { } https)
            {
                // Kestrel would look for a development certificate and abort the process without one.
                throw new InvalidDataException($"{https} needs a certificate: give {TlsOptions.CertFlag} FILE and {TlsOptions.KeyFlag} FILE ({TlsOptions.Section}:CertFile and :KeyFile)");
            }
            if (options.ClientCaFile is not null)
            {
                throw new InvalidDataException($"{TlsOptions.Section}:ClientCaFile needs TLS on: give {TlsOptions.CertFlag} FILE and {TlsOptions.KeyFlag} FILE too");
            }
            return null;
        }
        if (options.CertFile is null || options.KeyFile is null)
        {
            var (set, missing) = options.CertFile is null ? ("KeyFile", "CertFile") : ("CertFile", "KeyFile");
            var (setFlag, missingFlag) = options.CertFile is null ? (TlsOptions.KeyFlag, TlsOptions.CertFlag) : (TlsOptions.CertFlag, TlsOptions.KeyFlag);
            throw new InvalidDataException($"{TlsOptions.Section}:{set} ({setFlag}) is set but {TlsOptions.Section}:{missing} ({missingFlag}) is not: give both");
        }
        var certificate = new ServerCertificate(options.CertFile, options.KeyFile);
        var clientCertificates = options.ClientCaFile is not null;
        if (urls.Length == 0)
        {
            builder.WebHost.UseUrls(DefaultHttpsUrl);
        }
        builder.Services.AddSingleton(certificate);
        builder.Services.AddHostedService<CertificateWatcher>();
        builder.Services.AddHostedService<TlsStartupLog>();
        builder.Services.AddSingleton(new NativeTls(https => ConfigureHttps(https, certificate, clientCertificates)));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => ConfigureHttps(https, certificate, clientCertificates)));
        return certificate;
    }

    /// <summary>The server's TLS, for HTTP and the native port alike.</summary>
    private static void ConfigureHttps(Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions https, ServerCertificate certificate, bool clientCertificates)
    {
        {
            // Kestrel wants a certificate or a selector to accept the endpoint; the selector also serves HTTP/3.
            https.ServerCertificateSelector = (_, _) => certificate.Current.Certificate;
            // For TCP the prepared context goes in instead: it carries the intermediates from the file and is
            // built once per reload, not once per handshake.
            https.OnAuthenticate = (_, ssl) =>
            {
                ssl.ServerCertificateSelectionCallback = null;
                ssl.ServerCertificate = null;
                ssl.ServerCertificateContext = certificate.Current.Context;
            };
            if (clientCertificates)
            {
                // Asked for, not required: a caller without one may still use another credential. Which
                // certificates are good is decided by the Certificate authentication scheme, against the
                // configured authorities only (Security/ClientCertificates.cs), not by the TLS layer.
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            }
        }
    }
}

/// <summary>How the native listener sets up TLS: the same certificate and client-certificate rules as HTTP.</summary>
public sealed record NativeTls(Action<Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions> Configure);
