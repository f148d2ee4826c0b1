using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Leasehold.Server.Tls;

/// <summary>
/// Makes a small private certificate authority and the server and client certificates it signs, with the
/// framework's <see cref="CertificateRequest"/> (no outside tool): what <c>leasehold certs</c> runs and what the
/// tests make their certificates with. Keys are ECDSA P-256: small, fast, and accepted by every TLS stack.
/// </summary>
public static class CertificateMaker
{
    /// <summary>How long a made authority is valid unless told otherwise.</summary>
    public static readonly TimeSpan AuthorityValidity = TimeSpan.FromDays(3650);

    /// <summary>How long an issued certificate is valid unless told otherwise.</summary>
    public static readonly TimeSpan IssuedValidity = TimeSpan.FromDays(397);

    // A certificate made this instant is valid from a little earlier, so a peer whose clock is slightly
    // behind does not refuse it as "not yet valid".
    private static readonly TimeSpan Backdate = TimeSpan.FromHours(1);

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>A self-signed authority (with its private key) named <paramref name="name"/>, for signing only.</summary>
    public static X509Certificate2 MakeAuthority(string name, DateTimeOffset now, TimeSpan? validity = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject(name), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(now - Backdate, now + (validity ?? AuthorityValidity));
    }

    /// <summary>
    /// A certificate (with its private key) for <paramref name="name"/> signed by <paramref name="authority"/>:
    /// for a server (its names in <paramref name="dnsNames"/> and <paramref name="addresses"/>) or, with
    /// <paramref name="client"/>, for a client whose principal name is <paramref name="name"/> (the subject CN).
    /// The validity is clipped to the authority's, which a certificate cannot outlive.
    /// </summary>
    public static X509Certificate2 Issue(
        X509Certificate2 authority, string name, IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses, bool client,
        DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        ArgumentNullException.ThrowIfNull(authority);
        if (!authority.HasPrivateKey)
        {
            throw new ArgumentException("the authority's certificate has no private key to sign with", nameof(authority));
        }
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject(name), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(client ? ClientAuthOid : ServerAuthOid)], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var names = new SubjectAlternativeNameBuilder();
        var any = false;
        foreach (var dns in dnsNames)
        {
            names.AddDnsName(dns);
            any = true;
        }
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
            any = true;
        }
        if (any)
        {
            request.CertificateExtensions.Add(names.Build());
        }
        var from = notBefore < authority.NotBefore.ToUniversalTime() ? new DateTimeOffset(authority.NotBefore.ToUniversalTime()) : notBefore;
        var until = notAfter > authority.NotAfter.ToUniversalTime() ? new DateTimeOffset(authority.NotAfter.ToUniversalTime()) : notAfter;
        var serial = RandomNumberGenerator.GetBytes(16);
        // A positive serial number, as RFC 5280 asks.
        serial[0] &= 0x7F;
        using var signed = request.Create(authority, from, until, serial);
        return signed.CopyWithPrivateKey(key);
    }

    private static X500DistinguishedName Subject(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("a certificate needs a name", nameof(name));
        }
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(name);
        return builder.Build();
    }
}
