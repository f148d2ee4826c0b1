using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Leasehold.Cli;

/// <summary>
/// <c>run --local DIR</c>: no server, an OS file lock on <c>DIR/NAME.lock</c> per name. The file is opened
/// with <see cref="FileShare.None"/> (shared: <see cref="FileShare.Read"/>), which .NET turns into
/// <c>flock(LOCK_EX|LOCK_NB)</c> (<c>LOCK_SH</c>) on Unix; the kernel drops the lock when the holding
/// process ends, however it ends. A busy lock is retried with a small backoff until the wait runs out.
/// The files are never deleted (deleting a lock file others may have open would split the lock in two).
/// An exclusive holder also counts a fence in the file: one more than the last holder's.
/// </summary>
internal sealed class LocalLock : IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromMilliseconds(250);

    private readonly List<FileStream> _streams;

    private LocalLock(List<FileStream> streams, long? fence)
    {
        _streams = streams;
        Fence = fence;
    }

    public IReadOnlyList<string> Files => [.. _streams.Select(s => s.Name)];

    /// <summary>The open lock files: the lock lasts as long as one of these (or a copy in another process) is open.</summary>
    public IReadOnlyList<SafeFileHandle> Handles => [.. _streams.Select(s => s.SafeFileHandle)];

    /// <summary>For an exclusive lock: the fence of the first name, one more than its previous holder's.</summary>
    public long? Fence { get; }

    /// <summary>The lock file of <paramref name="name"/>: <c>DIR/NAME.lock</c>; a leading <c>/</c> is dropped, other separators refused.</summary>
    public static string FileFor(string directory, string name)
    {
        var trimmed = name.TrimStart('/');
        if (trimmed.Length == 0 || trimmed is "." or ".." || trimmed.IndexOfAny(['/', '\\', '\0']) >= 0)
        {
            throw new UsageException($"--path: '{name}' is not a lock name for --local (a file name, without / inside)");
        }
        return Path.Combine(Path.GetFullPath(directory), trimmed + ".lock");
    }

    /// <summary>Takes every name's lock (all or none), retrying until <paramref name="wait"/> has passed; null when they stayed busy.</summary>
    public static Task<LocalLock?> AcquireAsync(string directory, IReadOnlyList<string> names, bool shared, TimeSpan wait, CancellationToken cancellationToken)
        => AcquireFilesAsync(directory, [.. names.Select(n => FileFor(directory, n))], shared, wait, cancellationToken);

    /// <summary>As <see cref="AcquireAsync"/>, with the lock files (inside <paramref name="directory"/>) already named.</summary>
    public static async Task<LocalLock?> AcquireFilesAsync(string directory, IReadOnlyList<string> lockFiles, bool shared, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (FileLockingDisabled())
        {
            throw new CliException(ExitCodes.Error, "no-file-locking",
                "file locking is switched off in this process (System.IO.DisableFileLocking / DOTNET_SYSTEM_IO_DISABLEFILELOCKING): --local cannot work");
        }
        var files = lockFiles.Distinct(StringComparer.Ordinal).ToList();
        try
        {
            Directory.CreateDirectory(Path.GetFullPath(directory));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Error, "local-dir", $"--local: cannot create {directory}: {ex.Message}");
        }
        var elapsed = Stopwatch.StartNew();
        var delay = FirstRetry;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryAll(files, shared) is { } streams)
            {
                return new LocalLock(streams, shared ? null : NextFence(streams[0]));
            }
            var remaining = wait - elapsed.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }
            await Task.Delay(delay < remaining ? delay : remaining, cancellationToken);
            delay = delay * 2 < MaxRetry ? delay * 2 : MaxRetry;
        }
    }

    private static List<FileStream>? TryAll(List<string> files, bool shared)
    {
        var streams = new List<FileStream>(files.Count);
        foreach (var file in files)
        {
            try
            {
                streams.Add(shared
                    ? new FileStream(file, FileMode.OpenOrCreate, FileAccess.Read, FileShare.Read)
                    : new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException ex) when (ex.GetType() == typeof(IOException))
            {
                // EWOULDBLOCK from flock: someone holds it. Let go of the others and try again later.
                streams.ForEach(s => s.Dispose());
                return null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                streams.ForEach(s => s.Dispose());
                throw new CliException(ExitCodes.Error, "local-file", $"--local: cannot open {file}: {ex.Message}");
            }
        }
        return streams;
    }

    private static long NextFence(FileStream stream)
    {
        stream.Position = 0;
        string text;
        using (var reader = new StreamReader(stream, Encoding.ASCII, false, 64, leaveOpen: true))
        {
            text = reader.ReadToEnd();
        }
        var fence = (long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var last) ? last : 0) + 1;
        stream.SetLength(0);
        stream.Position = 0;
        stream.Write(Encoding.ASCII.GetBytes(fence.ToString(CultureInfo.InvariantCulture) + "\n"));
        stream.Flush();
        return fence;
    }

    private static bool FileLockingDisabled()
        => (AppContext.TryGetSwitch("System.IO.DisableFileLocking", out var disabled) && disabled)
           || Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING") is "1" or "true" or "True" or "TRUE";

    public void Dispose() => _streams.ForEach(s => s.Dispose());
}
