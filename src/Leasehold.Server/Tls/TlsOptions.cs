using System.ComponentModel;
using System.Security.Cryptography.X509Certificates;

namespace Leasehold.Server.Tls;

/// <summary>Settings under <c>Leasehold:Tls</c> (docs/tls.md).</summary>
public sealed class TlsOptions
{
    public const string Section = LeaseholdOptions.Section + ":Tls";

    /// <summary>The command-line short form of <see cref="CertFile"/>.</summary>
    public const string CertFlag = "--tls-cert";

    /// <summary>The command-line short form of <see cref="KeyFile"/>.</summary>
    public const string KeyFlag = "--tls-key";

    /// <summary>The server's certificate (PEM), optionally followed by its intermediate authorities.</summary>
    [Description("the server's certificate, PEM, optionally followed by its intermediate authorities (--tls-cert); set with KeyFile: HTTPS on, reloaded when the file changes")]
    public string? CertFile { get; set; }

    /// <summary>The server's unencrypted private key (PEM: PKCS#8, RSA or EC).</summary>
    [Description("the server's unencrypted private key, PEM: PKCS#8, RSA or EC (--tls-key)")]
    public string? KeyFile { get; set; }

    /// <summary>Authorities (PEM) whose client certificates authenticate a principal named after the certificate's CN.</summary>
    [Description("authorities (PEM) whose client certificates authenticate their subject CN as the caller; unset: no client certificates")]
    public string? ClientCaFile { get; set; }

    /// <summary>Whether and how client certificates are checked for revocation.</summary>
    [Description("revocation check of client certificates: nocheck, online or offline")]
    public X509RevocationMode ClientRevocation { get; set; } = X509RevocationMode.NoCheck;

    public bool Enabled => CertFile is not null || KeyFile is not null;
}
