using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using Leasehold.Server.Tls;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;

namespace Leasehold.Server.Security;

/// <summary>
/// Principals authenticated by TLS client certificates (docs/tls.md): a certificate that chains to one of the
/// authorities in <c>Leasehold:Tls:ClientCaFile</c> — those alone, never the system's — is within its validity
/// period and allows client authentication names the caller by its subject's common name (CN).
/// </summary>
public static class ClientCertificates
{
    /// <summary>The authentication scheme's name, and the caller's authentication type.</summary>
    public const string Scheme = CertificateAuthenticationDefaults.AuthenticationScheme;

    private const string CommonNameOid = "2.5.4.3";

    /// <summary>
    /// Adds the <see cref="Scheme"/> scheme when <c>Leasehold:Tls:ClientCaFile</c> is set (TLS itself asks
    /// clients for a certificate then: Tls/TlsSetup.cs); without it, adds nothing. An unreadable authorities file
    /// stops start-up.
    /// </summary>
    public static AuthenticationBuilder AddLeaseholdClientCertificates(this AuthenticationBuilder authentication, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(authentication);
        var options = configuration.GetSection(TlsOptions.Section).Get<TlsOptions>() ?? new TlsOptions();
        if (options.ClientCaFile is not { } caFile)
        {
            return authentication;
        }
        var authorities = CertificateFiles.ReadCertificates(Path.GetFullPath(caFile), "client authorities");
        return authentication.AddCertificate(Scheme, certificate =>
        {
            // Only certificates issued by the configured authorities: a self-signed one proves nothing.
            certificate.AllowedCertificateTypes = CertificateTypes.Chained;
            certificate.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
            certificate.CustomTrustStore = authorities;
            certificate.RevocationMode = options.ClientRevocation;
            certificate.ValidateCertificateUse = true;
            certificate.ValidateValidityPeriod = true;
            certificate.Events = new CertificateAuthenticationEvents
            {
                OnCertificateValidated = context =>
                {
                    if (CommonName(context.ClientCertificate) is not { Length: > 0 } name)
                    {
                        context.Fail("the client certificate's subject has no common name (CN) to name the caller by");
                        return Task.CompletedTask;
                    }
                    // The name only from the CN, never from the other subject fields the handler would fall back on.
                    var issuer = context.Options.ClaimsIssuer;
                    Claim[] claims =
                    [
                        new(ClaimTypes.Name, name, ClaimValueTypes.String, issuer),
                        new(ClaimTypes.NameIdentifier, name, ClaimValueTypes.String, issuer),
                        new(ClaimTypes.Thumbprint, context.ClientCertificate.Thumbprint, ClaimValueTypes.Base64Binary, issuer),
                    ];
                    context.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, context.Scheme.Name, ClaimTypes.Name, ClaimTypes.Role));
                    context.Success();
                    return Task.CompletedTask;
                },
            };
        });
    }

    /// <summary>The subject's common name; null without one, or with more than one (ambiguous).</summary>
    public static string? CommonName(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        string? name = null;
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == CommonNameOid)
            {
                if (name is not null)
                {
                    return null;
                }
                name = rdn.GetSingleElementValue();
            }
        }
        return name;
    }
}
