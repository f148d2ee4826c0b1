using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Leasehold.Client;

/// <summary>
/// The HTTP handler a client uses (and the TLS options of its native connections), with its TLS settings from <see cref="LeaseholdClientOptions"/>: the
/// authorities it trusts for the server, and the certificate it presents. Files are read when the handler is
/// made, so a handler made later (the factory's are renewed every two minutes) sees rotated files.
/// </summary>
internal static class ClientTls
{
    /// <summary>A handler for <paramref name="options"/>; unreadable files throw <see cref="InvalidOperationException"/> naming them.</summary>
    public static SocketsHttpHandler CreateHandler(LeaseholdClientOptions options)
    {
        // A node that is off does not refuse connections, it lets them hang: give up in time to try the next.
        var handler = new SocketsHttpHandler { ConnectTimeout = options.ConnectTimeout };
        Configure(handler.SslOptions, options);
        return handler;
    }

    /// <summary>The TLS settings of a native connection (<c>leaseholds://</c>) to <paramref name="host"/>: the same as HTTPS's.</summary>
    public static SslClientAuthenticationOptions CreateSslOptions(LeaseholdClientOptions options, string host)
    {
        var ssl = new SslClientAuthenticationOptions { TargetHost = host };
        Configure(ssl, options);
        return ssl;
    }

    private static void Configure(SslClientAuthenticationOptions ssl, LeaseholdClientOptions options)
    {
        if (options.CaFile is { } caFile)
        {
            var roots = ReadCertificates(caFile, nameof(LeaseholdClientOptions.CaFile));
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                // A private authority publishes no revocation list; checking would fail every handshake.
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(roots);
            ssl.CertificateChainPolicy = policy;
        }
        var certificate = options.ClientCertificate ?? ReadClientCertificate(options);
        if (certificate is not null)
        {
            // Presented whichever authorities the server names: the server decides what it accepts.
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }
    }

    private static X509Certificate2? ReadClientCertificate(LeaseholdClientOptions options)
    {
        if (options.ClientCertificateFile is not { } certFile)
        {
            return options.ClientCertificateKeyFile is null
                ? null
                : throw new InvalidOperationException($"{nameof(LeaseholdClientOptions.ClientCertificateKeyFile)} is set without {nameof(LeaseholdClientOptions.ClientCertificateFile)}");
        }
        var keyFile = options.ClientCertificateKeyFile ?? certFile;
        ReadCertificates(certFile, nameof(LeaseholdClientOptions.ClientCertificateFile));
        try
        {
            var certificate = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            // Windows' TLS cannot use a key that lives only in memory; a PKCS#12 round trip gives it a stored one.
            return OperatingSystem.IsWindows() ? X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null) : certificate;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{nameof(LeaseholdClientOptions.ClientCertificateKeyFile)}: no unencrypted private key of the certificate in {certFile} could be read from {keyFile}: {ex.Message}", ex);
        }
    }

    private static X509Certificate2Collection ReadCertificates(string file, string setting)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(file);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{setting}: cannot read certificates from {file}: {ex.Message}", ex);
        }
        return certificates.Count > 0
            ? certificates
            : throw new InvalidOperationException($"{setting}: {file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }

    /// <summary>
    /// True when the TLS handshake failed on a certificate (the server's not trusted, or a name that does not
    /// match): repeating the request cannot help, unlike a refused or broken connection.
    /// </summary>
    public static bool IsCertificateFailure(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>What went wrong in a transport failure, with the TLS reason when there is one.</summary>
    public static string Describe(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException)
            {
                return "TLS handshake failed: " + e.Message;
            }
        }
        return ex is System.Text.Json.JsonException ? "its answer could not be read: " + ex.Message : ex.Message;
    }
}
