namespace Leasehold.Server.Tls;

/// <summary>
/// Reloads the <see cref="ServerCertificate"/> when its files change: a <see cref="FileSystemWatcher"/> on their
/// directories for a prompt reload, and a check every <see cref="PollInterval"/> for the changes a watcher can
/// miss (network file systems, a full inotify queue). Changes are acted on once the files have been quiet for
/// <see cref="Settle"/>, so a certificate and key written one after the other are read together.
/// </summary>
internal sealed partial class CertificateWatcher(ServerCertificate certificate, ILogger<CertificateWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);

    private readonly SemaphoreSlim _changed = new(0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var watchers = new List<FileSystemWatcher>();
        try
        {
            foreach (var directory in new[] { certificate.CertFile, certificate.KeyFile }.Select(Path.GetDirectoryName).OfType<string>().Distinct())
            {
                // The whole directory: files are often replaced by a rename or a symbolic link swap, which a
                // filter on the file's name would not see.
                var watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = false };
                watcher.Changed += OnEvent;
                watcher.Created += OnEvent;
                watcher.Renamed += OnEvent;
                watcher.Deleted += OnEvent;
                watchers.Add(watcher);
                try
                {
                    watcher.EnableRaisingEvents = true;
                }
                catch (IOException ex)
                {
                    // Out of inotify instances or watches: the periodic check still sees every change, later.
                    LogNoWatcher(directory, PollInterval.TotalSeconds, ex.Message);
                }
            }
            while (!stoppingToken.IsCancellationRequested)
            {
                var signalled = await _changed.WaitAsync(PollInterval, stoppingToken).ConfigureAwait(false);
                if (signalled)
                {
                    // Let a burst of writes finish, then take every event of it at once.
                    await Task.Delay(Settle, stoppingToken).ConfigureAwait(false);
                    while (_changed.CurrentCount > 0 && _changed.Wait(0))
                    {
                    }
                }
                Check();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            watchers.ForEach(w => w.Dispose());
        }
    }

    private void OnEvent(object sender, FileSystemEventArgs e)
    {
        try
        {
            _changed.Release();
        }
        catch (ObjectDisposedException)
        {
            // An event raised while stopping: nothing is watched any more.
        }
    }

    private void Check()
    {
        switch (certificate.ReloadIfChanged())
        {
            case ReloadOutcome.Reloaded:
                var current = certificate.Current.Certificate;
                LogReloaded(current.Subject, current.Thumbprint, current.NotAfter.ToUniversalTime());
                break;
            case ReloadOutcome.Failed:
                LogKept(certificate.LastError);
                break;
        }
    }

    [LoggerMessage(LogLevel.Warning, "Cannot watch {Directory} for TLS certificate changes, checking every {Seconds} s instead: {Reason}")]
    private partial void LogNoWatcher(string directory, double seconds, string reason);

    [LoggerMessage(LogLevel.Information, "TLS certificate reloaded: {Subject}, thumbprint {Thumbprint}, valid until {NotAfter:u}")]
    private partial void LogReloaded(string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(LogLevel.Warning, "TLS certificate files changed but cannot be used, the current certificate stays: {Reason}")]
    private partial void LogKept(string? reason);

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }
}
