namespace Leasehold.Storage.Tests;

/// <summary>A fresh directory under the system temp folder for one test, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Dir = Path.Combine(Path.GetTempPath(), "leasehold-storage-tests", Guid.NewGuid().ToString("N"));
        // Owner-only, like a data directory the server created: opening it is then no change worth a note.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(Dir);
        }
        else
        {
            Directory.CreateDirectory(Dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string Dir { get; }

    public string File(string name) => Path.Combine(Dir, name);

    public string Segment(long firstIndex) => File(LogFormat.SegmentName(firstIndex));

    public string Snapshot(long index) => File(LogFormat.SnapshotName(index));

    /// <summary>The log segments, oldest first, as (first index, full path).</summary>
    public IReadOnlyList<(long FirstIndex, string Path)> Segments() => LogReader.Segments(Dir);

    /// <summary>The file names in the directory, sorted ordinally.</summary>
    public string[] FileNames() => [.. Directory.EnumerateFiles(Dir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // A leaked handle on a platform that refuses to delete open files: leave the folder behind.
        }
    }
}
