using System.Runtime.Versioning;

namespace Leasehold.Storage.Tests;

/// <summary>
/// The log and snapshots hold what lets a client act as a lease's holder: only the server's user may read
/// the data directory and its files (Unix modes; Windows keeps its inherited ACLs).
/// </summary>
public class FileModeTests : IDisposable
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Open = DirectoryMode | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [UnsupportedOSPlatform("windows")]
    private static void AssertPrivate(string dir)
    {
        Assert.Equal(DirectoryMode, File.GetUnixFileMode(dir));
        var files = Directory.GetFiles(dir);
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            Assert.True(FileMode == File.GetUnixFileMode(file), $"{Path.GetFileName(file)} has mode {File.GetUnixFileMode(file)}");
        }
    }

    [Fact]
    public void NewDirectoryAndEveryFileAreReadableByTheOwnerAlone()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var dir = Path.Combine(_dir.Dir, "data");
        using (var d = new StoreDriver(dir, segmentBytes: 200))
        {
            SegmentBytes.LogAcquires(d, 6);
            AssertPrivate(dir);
            d.Snapshot();
            SegmentBytes.LogAcquires(d, 2, firstNumber: 7);
            Assert.Contains(Directory.GetFiles(dir), f => f.EndsWith(".snap", StringComparison.Ordinal));
            AssertPrivate(dir);
        }
        AssertPrivate(dir);
    }

    [Fact]
    public void ExistingOpenDirectoryAndFilesAreTightenedAtOpen()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var dir = Path.Combine(_dir.Dir, "data");
        using (var d = new StoreDriver(dir))
        {
            SegmentBytes.LogAcquires(d, 3);
            d.Snapshot();
        }
        // As an older server left it: a 0755 directory of 0644 files.
        File.SetUnixFileMode(dir, Open);
        foreach (var file in Directory.GetFiles(dir))
        {
            File.SetUnixFileMode(file, FileMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        using (var store = DataStore.Open(dir))
        {
            AssertPrivate(dir);
            Assert.Equal(3, store.Engine.Leases.Count);
        }
    }
}
