namespace Leasehold.Storage;

/// <summary>
/// The log and snapshots hold what identifies a lease's holder, so the data directory and its files are
/// readable by the server's user alone (0700 and 0600 on Unix). Windows keeps the ACLs the files inherit.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>A file stream whose file, if this creates it, is created 0600.</summary>
    public static FileStream Create(string path, System.IO.FileMode mode, FileAccess access, FileShare share = FileShare.None, int bufferSize = 4096)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows() && mode is not System.IO.FileMode.Open and not System.IO.FileMode.Truncate)
        {
            options.UnixCreateMode = FileMode;
        }
        return new FileStream(path, options);
    }

    /// <summary>
    /// Creates <paramref name="dir"/> 0700, or takes group and other access away from an existing one and from the
    /// server's files in it (an older server left them 0755 and 0644). Returns what it changed, for the log.
    /// </summary>
    public static IReadOnlyList<string> CreateDirectory(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
            return [];
        }
        Directory.CreateDirectory(dir, DirectoryMode);
        var tightened = new List<string>();
        if (File.GetUnixFileMode(dir) != DirectoryMode)
        {
            File.SetUnixFileMode(dir, DirectoryMode);
            tightened.Add($"the data directory {dir} was readable by others: made it readable by its owner alone (0700)");
        }
        var files = 0;
        foreach (var file in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(file);
            if (IsServerFile(name) && File.GetUnixFileMode(file) != FileMode)
            {
                File.SetUnixFileMode(file, FileMode);
                files++;
            }
        }
        if (files > 0)
        {
            tightened.Add($"{files} files in the data directory were readable by others: made them readable by their owner alone (0600)");
        }
        return tightened;
    }

    private static bool IsServerFile(string name)
        => name.StartsWith("wal-", StringComparison.Ordinal) || name.StartsWith("snapshot-", StringComparison.Ordinal)
            || name.StartsWith("leasehold.", StringComparison.Ordinal);
}
