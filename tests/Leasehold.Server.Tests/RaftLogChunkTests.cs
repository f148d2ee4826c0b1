using Leasehold.Server.Cluster;

namespace Leasehold.Server.Tests;

/// <summary>
/// The chunk size a cluster node gives DotNext's write-ahead log: large for a new log, and for an existing log the
/// size its data files were made with (DotNext cannot read a log with another), found in real folders.
/// </summary>
public sealed class RaftLogChunkTests : IDisposable
{
    private readonly string _log = Path.Combine(Directory.CreateTempSubdirectory("leasehold-chunk-").FullName, "log");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_log)!, recursive: true);

    [Fact]
    public void A_new_log_gets_the_large_chunk()
    {
        Assert.Equal(RaftNode.DefaultLogChunkSize, RaftNode.LogChunkSize(_log));
        Directory.CreateDirectory(Path.Combine(_log, "data"));
        File.WriteAllBytes(Path.Combine(_log, "data", "0"), []);
        Assert.Equal(RaftNode.DefaultLogChunkSize, RaftNode.LogChunkSize(_log));
    }

    [Fact]
    public void A_log_made_with_page_sized_chunks_keeps_them()
    {
        Directory.CreateDirectory(Path.Combine(_log, "data"));
        File.WriteAllBytes(Path.Combine(_log, "data", "7"), new byte[4096]);
        File.WriteAllBytes(Path.Combine(_log, "data", "8"), new byte[4096]);
        File.WriteAllBytes(Path.Combine(_log, "data", "not-a-page"), new byte[10]);

        Assert.Equal(4096, RaftNode.LogChunkSize(_log));
    }

    [Fact]
    public void Data_files_of_different_sizes_are_refused_naming_them()
    {
        Directory.CreateDirectory(Path.Combine(_log, "data"));
        File.WriteAllBytes(Path.Combine(_log, "data", "0"), new byte[4096]);
        File.WriteAllBytes(Path.Combine(_log, "data", "1"), new byte[8192]);

        var error = Assert.Throws<InvalidDataException>(() => RaftNode.LogChunkSize(_log));
        Assert.Contains("4096, 8192", error.Message, StringComparison.Ordinal);
    }
}
