namespace Leasehold.Storage.Tests;

/// <summary>
/// Several log segments (a small segment size makes <see cref="DataStore.Write(LogBuffer)"/> roll often). A hole in
/// the sequence or a damaged segment that is not the last one is corruption, never a torn tail.
/// </summary>
public class SegmentTests : IDisposable
{
    private const long SegmentBytes200 = 200;
    private const int Records = 14;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private IReadOnlyList<(long FirstIndex, string Path)> LogRecords()
    {
        using (var d = new StoreDriver(_dir.Dir, SegmentBytes200))
        {
            SegmentBytes.LogAcquires(d, Records);
        }
        var segments = _dir.Segments();
        Assert.True(segments.Count >= 4, $"only {segments.Count} segments");
        return segments;
    }

    [Fact]
    public void RolledSegmentsAreContiguousAndReopen()
    {
        var segments = LogRecords();
        var expected = 1L;
        foreach (var (first, path) in segments)
        {
            Assert.Equal(expected, first);
            var data = File.ReadAllBytes(path);
            Assert.Equal(first, BitConverter.ToInt64(data, 16));
            expected += SegmentBytes.Records(data).Count;
        }
        Assert.Equal(Records + 1, expected);

        using (var d = new StoreDriver(_dir.Dir, SegmentBytes200))
        {
            Assert.Equal(Records + 1, d.Store.NextIndex);
            Assert.Equal(Records, d.Engine.Leases.Count);
            SegmentBytes.LogAcquires(d, 6, firstNumber: 100);
        }
        using var store = DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200);
        Assert.Equal(Records + 6, store.Engine.Leases.Count);
        Assert.True(_dir.Segments().Count > segments.Count);
    }

    [Fact]
    public void MissingMiddleSegmentIsRefusedNamingIt()
    {
        var segments = LogRecords();
        File.Delete(segments[1].Path);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200));
        Assert.Equal(segments[1].Path, ex.File);
        Assert.Contains($"{Path.GetFileName(segments[1].Path)} is missing", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.LossAcceptable);
    }

    /// <summary>Without a manifest (a directory from an older version) the hole in the indexes still shows.</summary>
    [Fact]
    public void MissingMiddleSegmentWithoutAManifestIsCorruptionNamingTheNextSegment()
    {
        var segments = LogRecords();
        File.Delete(segments[1].Path);
        File.Delete(_dir.File(LogFormat.ManifestFile));

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200));
        Assert.Equal(segments[2].Path, ex.File);
        Assert.Contains(Path.GetFileName(segments[2].Path), ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFirstSegmentIsRefusedNamingIt()
    {
        var segments = LogRecords();
        File.Delete(segments[0].Path);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200));
        Assert.Equal(segments[0].Path, ex.File);
        Assert.Contains($"{Path.GetFileName(segments[0].Path)} is missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFirstSegmentWithoutAManifestIsCorruption()
    {
        var segments = LogRecords();
        File.Delete(segments[0].Path);
        File.Delete(_dir.File(LogFormat.ManifestFile));

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200));
        Assert.Equal(segments[1].Path, ex.File);
        Assert.Contains($"record {segments[1].FirstIndex} but record 1 is needed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonLastSegmentCutInsideARecordIsCorruption()
    {
        var segments = LogRecords();
        var path = segments[1].Path;
        var last = SegmentBytes.Records(path)[^1];
        var cutAt = last.Offset + (last.Length / 2);
        SegmentBytes.Cut(path, cutAt);
        var before = File.ReadAllBytes(path);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200));
        Assert.Equal(path, ex.File);
        Assert.Equal(last.Offset, ex.Offset);
        Assert.Contains($"{Path.GetFileName(path)} at offset {last.Offset}", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void NonLastSegmentCutAtARecordBoundaryIsCorruptionNamingTheNextSegment()
    {
        var segments = LogRecords();
        var last = SegmentBytes.Records(segments[1].Path)[^1];
        SegmentBytes.Cut(segments[1].Path, last.Offset);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200));
        Assert.Equal(segments[2].Path, ex.File);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public void NonLastSegmentWithATornHeaderIsCorruption(int keep)
    {
        var segments = LogRecords();
        SegmentBytes.Cut(segments[1].Path, keep);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200));
        Assert.Equal(segments[1].Path, ex.File);
        Assert.Equal(keep, new FileInfo(segments[1].Path).Length);
    }

    [Fact]
    public void FlippedByteInTheLastRecordOfANonLastSegmentIsCorruption()
    {
        var segments = LogRecords();
        var last = SegmentBytes.Records(segments[1].Path)[^1];
        SegmentBytes.FlipByte(segments[1].Path, last.Offset + last.Length - 1);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200));
        Assert.Equal(segments[1].Path, ex.File);
        Assert.Equal(last.Offset, ex.Offset);
    }

    [Fact]
    public void SegmentWhoseHeaderDisagreesWithItsNameIsCorruption()
    {
        var segments = LogRecords();
        var data = File.ReadAllBytes(segments[2].Path);
        BitConverter.TryWriteBytes(data.AsSpan(16), segments[2].FirstIndex + 1);
        File.WriteAllBytes(segments[2].Path, data);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SegmentBytes200));
        Assert.Equal(segments[2].Path, ex.File);
        Assert.Equal(16, ex.Offset);
    }
}
