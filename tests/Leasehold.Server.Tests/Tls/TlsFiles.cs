using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Leasehold.Server.Tls;

namespace Leasehold.Server.Tests.Tls;

/// <summary>
/// A private authority and the certificates it signs, as PEM files in a temporary directory (deleted on
/// dispose), made with the server's own <see cref="CertificateMaker"/>.
/// </summary>
internal sealed class TlsFiles : IDisposable
{
    public TlsFiles(string authorityName = "Leasehold Test CA")
    {
        // Made as if a month ago, so it can have issued a certificate that has expired since.
        Authority = CertificateMaker.MakeAuthority(authorityName, DateTimeOffset.UtcNow.AddDays(-30));
        PemFiles.Write(Authority, Directory, "ca", overwrite: false);
        CaFile = PemFiles.CertificatePath(Directory, "ca");
    }

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("leasehold-tls-").FullName;

    public X509Certificate2 Authority { get; }

    /// <summary>The authority's certificate, what clients trust.</summary>
    public string CaFile { get; }

    /// <summary>The authority alone, as a trust store.</summary>
    public X509Certificate2Collection Roots => [X509CertificateLoader.LoadCertificate(Authority.RawData)];

    /// <summary>A server certificate for 127.0.0.1 and localhost, written as NAME.crt and NAME.key.</summary>
    public (string Cert, string Key, X509Certificate2 Certificate) Server(string name = "server", bool overwrite = false)
    {
        var certificate = Issue(name, client: false);
        PemFiles.Write(certificate, Directory, name, overwrite);
        return (PemFiles.CertificatePath(Directory, name), PemFiles.KeyPath(Directory, name), certificate);
    }

    /// <summary>A client certificate whose subject CN is <paramref name="name"/>, valid from <paramref name="notBefore"/> to <paramref name="notAfter"/>.</summary>
    public X509Certificate2 Client(string name, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        var now = DateTimeOffset.UtcNow;
        return CertificateMaker.Issue(Authority, name, [], [], client: true, notBefore ?? now.AddMinutes(-5), notAfter ?? now.AddDays(1));
    }

    public X509Certificate2 Issue(string name, bool client)
    {
        var now = DateTimeOffset.UtcNow;
        return CertificateMaker.Issue(Authority, name, ["localhost"], [IPAddress.Loopback], client, now.AddMinutes(-5), now.AddDays(1));
    }

    /// <summary>An intermediate authority under this one (the root made by the maker allows none, so a root of its own).</summary>
    public static (X509Certificate2 Root, X509Certificate2 Intermediate) RootWithIntermediate()
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=Chain Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false));
        var root = rootRequest.CreateSelfSigned(now.AddHours(-1), now.AddDays(30));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Chain Intermediate", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        using var signed = request.Create(root, now.AddMinutes(-30), now.AddDays(20), [1, 2, 3, 4]);
        return (root, signed.CopyWithPrivateKey(key));
    }

    /// <summary>A handler that trusts this authority alone (and presents <paramref name="clientCertificate"/>, if any).</summary>
    public SocketsHttpHandler Handler(X509Certificate2? clientCertificate = null) => Handler(Roots, clientCertificate);

    public static SocketsHttpHandler Handler(X509Certificate2Collection roots, X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler { UseProxy = false };
        handler.SslOptions.CertificateChainPolicy = TrustOnly(roots);
        if (clientCertificate is not null)
        {
            // Sent whatever the server asks for: the server, not the client, must be the one to turn it down.
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }
        return handler;
    }

    public static X509ChainPolicy TrustOnly(X509Certificate2Collection roots)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(roots);
        return policy;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
