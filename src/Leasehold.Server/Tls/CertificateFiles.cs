using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Leasehold.Server.Tls;

/// <summary>A server certificate read from its PEM files, ready for handshakes, and when its files were written.</summary>
public sealed record LoadedCertificate(X509Certificate2 Certificate, SslStreamCertificateContext Context, FileStamp Stamp);

/// <summary>What a file looked like when read: a change of either means it was replaced.</summary>
public readonly record struct FileStamp(DateTime CertWritten, long CertLength, DateTime KeyWritten, long KeyLength)
{
    public static FileStamp Of(string certFile, string keyFile)
    {
        var cert = Target(certFile);
        var key = Target(keyFile);
        return new(cert.Exists ? cert.LastWriteTimeUtc : default, cert.Exists ? cert.Length : -1,
            key.Exists ? key.LastWriteTimeUtc : default, key.Exists ? key.Length : -1);
    }

    /// <summary>
    /// The file a symbolic link leads to, or the file itself: a link swapped to a new file (as secret stores
    /// mounted into containers do) keeps its own times, so only the target's show the change.
    /// </summary>
    private static FileInfo Target(string path)
    {
        var file = new FileInfo(path);
        try
        {
            return file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;
        }
        catch (IOException)
        {
            // A dangling or looping link: the file as it is, which reads as missing.
            return file;
        }
    }
}

/// <summary>
/// Reads PEM certificate and key files: a certificate file (the server's certificate first, optionally followed
/// by the authorities between it and the root, sent along in every handshake) and an unencrypted key (PKCS#8,
/// RSA or EC). Every reason a pair cannot be used is an <see cref="InvalidDataException"/> naming the file, so
/// start-up refuses in one line and a reload keeps the certificate it has.
/// </summary>
public static class CertificateFiles
{
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>Reads and checks a server certificate and its key.</summary>
    public static LoadedCertificate LoadServer(string certFile, string keyFile)
    {
        // Taken before reading: a file replaced while being read is seen as changed again, and read again.
        var stamp = FileStamp.Of(certFile, keyFile);
        var certificates = ReadCertificates(certFile, "certificate");
        var leaf = certificates[0];
        var withKey = AttachKey(leaf, certFile, keyFile);
        if (!AllowsServerAuth(withKey))
        {
            throw new InvalidDataException($"the certificate in {certFile} is not for servers: its extended key usage lacks serverAuth");
        }
        if (OperatingSystem.IsWindows())
        {
            // Windows' TLS cannot use a key that lives only in memory; a PKCS#12 round trip gives it a stored one.
            withKey = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }
        var chain = new X509Certificate2Collection();
        for (var i = 1; i < certificates.Count; i++)
        {
            chain.Add(certificates[i]);
        }
        // offline: the chain is what the file gives (and the system store has); nothing is fetched while starting.
        try
        {
            var context = SslStreamCertificateContext.Create(withKey, chain, offline: true);
            return new LoadedCertificate(withKey, context, stamp);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidDataException($"the certificate in {certFile} cannot be used for TLS: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The certificates of a PEM file, at least one; <paramref name="what"/> names the file's role in messages.
    /// </summary>
    public static X509Certificate2Collection ReadCertificates(string file, string what)
    {
        var text = ReadText(file, what);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(text);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidDataException($"the {what} file {file} holds a damaged certificate: {ex.Message}", ex);
        }
        if (certificates.Count == 0)
        {
            throw new InvalidDataException($"the {what} file {file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return certificates;
    }

    private static X509Certificate2 AttachKey(X509Certificate2 certificate, string certFile, string keyFile)
    {
        var text = ReadText(keyFile, "key");
        if (text.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal) || text.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"the key file {keyFile} is encrypted; the server needs it unencrypted (and readable by its user alone)");
        }
        AsymmetricAlgorithm key = certificate.GetKeyAlgorithm() switch
        {
            "1.2.840.113549.1.1.1" => RSA.Create(),
            "1.2.840.10045.2.1" => ECDsa.Create(),
            var other => throw new InvalidDataException($"the certificate in {certFile} has a key of a kind the server does not use ({other}); use RSA or ECDSA"),
        };
        using (key)
        {
            try
            {
                key.ImportFromPem(text);
            }
            catch (ArgumentException)
            {
                // No PEM block of a kind this key type reads: no key at all, or one of another algorithm.
                throw new InvalidDataException(HasAnyKey(text)
                    ? $"the key in {keyFile} does not belong to the certificate in {certFile}"
                    : $"the key file {keyFile} holds no PEM private key (PKCS#8, RSA or EC)");
            }
            catch (CryptographicException ex)
            {
                throw HasAnyKey(text) && text.Contains("BEGIN PRIVATE KEY", StringComparison.Ordinal)
                    ? new InvalidDataException($"the key in {keyFile} does not belong to the certificate in {certFile}", ex)
                    : new InvalidDataException($"the key file {keyFile} holds a damaged key: {ex.Message}", ex);
            }
            try
            {
                return key switch
                {
                    RSA rsa => certificate.CopyWithPrivateKey(rsa),
                    ECDsa ecdsa => certificate.CopyWithPrivateKey(ecdsa),
                    _ => throw new InvalidOperationException("unreachable"),
                };
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                // ArgumentException: the key does not match the certificate's public key.
                throw new InvalidDataException($"the key in {keyFile} does not belong to the certificate in {certFile}", ex);
            }
        }
    }

    private static bool HasAnyKey(string text) => text.Contains("PRIVATE KEY-----", StringComparison.Ordinal);

    /// <summary>No extended key usage at all allows every use; otherwise serverAuth must be listed.</summary>
    private static bool AllowsServerAuth(X509Certificate2 certificate)
    {
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        return usages is null || usages.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == ServerAuthOid);
    }

    private static string ReadText(string file, string what)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var reason = ex switch
            {
                FileNotFoundException or DirectoryNotFoundException => "does not exist",
                UnauthorizedAccessException => "cannot be read by this user",
                _ => "cannot be read: " + ex.Message,
            };
            throw new InvalidDataException($"the {what} file {file} {reason}", ex);
        }
    }
}
