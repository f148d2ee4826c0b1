namespace Leasehold.Server.Tls;

/// <summary>What <see cref="ServerCertificate.ReloadIfChanged"/> did.</summary>
public enum ReloadOutcome
{
    /// <summary>The files are as they were when last read (or last found unusable).</summary>
    Unchanged,

    /// <summary>New files were read; new connections get the new certificate.</summary>
    Reloaded,

    /// <summary>New files could not be used; the current certificate stays (<see cref="ServerCertificate.LastError"/> says why).</summary>
    Failed,
}

/// <summary>
/// The server's certificate, read from its PEM files at start-up and again whenever they change. Every TLS
/// handshake takes <see cref="Current"/>, so a replaced certificate is used from the next connection on, with
/// no restart; connections already open keep the one they started with. New files that cannot be used leave
/// the current certificate in place.
/// </summary>
public sealed class ServerCertificate
{
    private readonly Lock _reloading = new();
    private volatile LoadedCertificate _current;
    private FileStamp _seen;

    /// <summary>Reads the files; throws <see cref="InvalidDataException"/> naming the problem when they cannot be used.</summary>
    public ServerCertificate(string certFile, string keyFile)
    {
        CertFile = Path.GetFullPath(certFile);
        KeyFile = Path.GetFullPath(keyFile);
        _current = CertificateFiles.LoadServer(CertFile, KeyFile);
        _seen = _current.Stamp;
    }

    public string CertFile { get; }

    public string KeyFile { get; }

    /// <summary>The certificate new connections get.</summary>
    public LoadedCertificate Current => _current;

    /// <summary>Why the last change of the files could not be used, or null when the last read worked.</summary>
    public string? LastError { get; private set; }

    /// <summary>
    /// Reads the files again if they changed since they were last read (a cheap check of their write times and
    /// lengths). Files found unusable are not tried again until they change once more, so one bad file gives one
    /// warning, not one per check.
    /// </summary>
    public ReloadOutcome ReloadIfChanged()
    {
        lock (_reloading)
        {
            var stamp = FileStamp.Of(CertFile, KeyFile);
            if (stamp == _seen)
            {
                return ReloadOutcome.Unchanged;
            }
            try
            {
                var loaded = CertificateFiles.LoadServer(CertFile, KeyFile);
                _current = loaded;
                _seen = loaded.Stamp;
                LastError = null;
                return ReloadOutcome.Reloaded;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                // Whatever the new files are, the server keeps serving with the certificate it has.
                _seen = stamp;
                LastError = ex.Message;
                return ReloadOutcome.Failed;
            }
        }
    }
}
