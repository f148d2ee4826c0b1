using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Leasehold.Server.Tls;

/// <summary>
/// Writes a certificate and its private key as PEM files (<c>NAME.crt</c>, <c>NAME.key</c>), each replaced
/// whole (written beside, then renamed), so a server watching them never reads half a file. The key file is
/// readable by its owner alone.
/// </summary>
public static class PemFiles
{
    public const string CertificateExtension = ".crt";
    public const string KeyExtension = ".key";

    /// <summary>The certificate file of <paramref name="name"/> in <paramref name="directory"/>.</summary>
    public static string CertificatePath(string directory, string name) => Path.Combine(directory, name + CertificateExtension);

    /// <summary>The key file of <paramref name="name"/> in <paramref name="directory"/>.</summary>
    public static string KeyPath(string directory, string name) => Path.Combine(directory, name + KeyExtension);

    /// <summary>
    /// Writes <paramref name="certificate"/> (followed by <paramref name="chain"/>, the authorities between it and
    /// the root, if any) and its key. Existing files are replaced only with <paramref name="overwrite"/>.
    /// </summary>
    public static void Write(X509Certificate2 certificate, string directory, string name, bool overwrite, IEnumerable<X509Certificate2>? chain = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var certPath = CertificatePath(directory, name);
        var keyPath = KeyPath(directory, name);
        if (!overwrite)
        {
            foreach (var path in new[] { certPath, keyPath })
            {
                if (File.Exists(path))
                {
                    throw new IOException($"{path} exists already (replace it on purpose, or choose another directory)");
                }
            }
        }
        Directory.CreateDirectory(directory);
        var pem = certificate.ExportCertificatePem() + "\n" + string.Concat((chain ?? []).Select(c => c.ExportCertificatePem() + "\n"));
        // The key first: a watcher that sees the new certificate finds its key already there.
        WriteReplacing(keyPath, ExportKey(certificate), secret: true);
        WriteReplacing(certPath, pem, secret: false);
    }

    private static string ExportKey(X509Certificate2 certificate)
    {
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()
            ?? throw new ArgumentException("the certificate has no ECDSA or RSA private key", nameof(certificate));
        return key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    private static void WriteReplacing(string path, string text, bool secret)
    {
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created with these permissions, never readable by others even for a moment.
            options.UnixCreateMode = secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }
        try
        {
            using (var stream = new FileStream(temporary, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(text);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
