using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>
/// The flusher writes all the batches of one drain with one call (<see cref="DataStore.Write(IReadOnlyList{LogBuffer})"/>):
/// the log it leaves must be the one that writing them one by one leaves, segment rolls included.
/// </summary>
public class GatheredWriteTests : IDisposable
{
    private const long SmallSegments = 600;

    /// <summary>A segment header and 24 records of <see cref="Batches"/> (25 bytes each).</summary>
    private const long Boundary = 24 + (24 * 25);

    private readonly TempDir _together = new();
    private readonly TempDir _oneByOne = new();

    public void Dispose()
    {
        _together.Dispose();
        _oneByOne.Dispose();
    }

    /// <summary>Batches of 1 to 3 records each, numbered on from <paramref name="first"/>, with some empty ones among them.</summary>
    private static List<LogBuffer> Batches(long first, int count)
    {
        var batches = new List<LogBuffer>();
        var index = first;
        for (var b = 0; b < count; b++)
        {
            var batch = new LogBuffer();
            var records = b % 7 == 3 ? 0 : 1 + (b % 3);
            for (var r = 0; r < records; r++)
            {
                batch.Append(index, new Tick { Now = 1_000 + index });
                index++;
            }
            batches.Add(batch);
        }
        return batches;
    }

    private static void DisposeAll(List<LogBuffer> batches) => batches.ForEach(b => b.Dispose());

    /// <summary>
    /// Where the log's segments start and how long each but the last is, worked out from the batches alone: a batch goes
    /// to a new segment when the current one has reached <paramref name="limit"/> before it.
    /// </summary>
    private static List<(long FirstIndex, long Length)> ExpectedSegments(List<LogBuffer> batches, long limit)
    {
        var segments = new List<(long FirstIndex, long Length)> { (1, LogFormat.SegmentHeaderSize) };
        foreach (var batch in batches.Where(b => b.Records > 0))
        {
            if (segments[^1].Length >= limit)
            {
                segments.Add((batch.FirstIndex, LogFormat.SegmentHeaderSize));
            }
            segments[^1] = (segments[^1].FirstIndex, segments[^1].Length + batch.Length);
        }
        return segments;
    }

    [Theory]
    [InlineData(SmallSegments, false)]
    [InlineData(SmallSegments, true)]
    // A header and a whole number of records: some segments reach the limit exactly, after a batch.
    [InlineData(Boundary, false)]
    [InlineData(Boundary, true)]
    public void BatchesWrittenTogetherLeaveTheLogThatWritingThemOneByOneLeaves(long limit, bool preallocate)
    {
        var batches = Batches(1, 60);
        var records = batches.Sum(b => b.Records);
        using (var store = DataStore.Open(_together.Dir, segmentBytes: limit, preallocate: preallocate))
        {
            // Two drains, so the second continues a segment the first left part full.
            store.Write(batches[..25]);
            store.Write(batches[25..]);
            store.Sync();
        }
        using (var store = DataStore.Open(_oneByOne.Dir, segmentBytes: limit, preallocate: preallocate))
        {
            foreach (var batch in batches)
            {
                store.Write(batch);
            }
            store.Sync();
        }
        var expected = ExpectedSegments(batches, limit);
        DisposeAll(batches);

        var together = _together.Segments();
        var oneByOne = _oneByOne.Segments();
        Assert.True(expected.Count >= 3, $"the records should fill several {limit}-byte segments, got {expected.Count}");
        Assert.Equal(expected.Select(s => s.FirstIndex), together.Select(s => s.FirstIndex));
        Assert.Equal(expected.Select(s => s.FirstIndex), oneByOne.Select(s => s.FirstIndex));
        for (var i = 0; i < together.Count; i++)
        {
            if (i < together.Count - 1)
            {
                // A segment is cut back to its last record when the next one starts (the last stays preallocated).
                Assert.Equal(expected[i].Length, new FileInfo(together[i].Path).Length);
            }
            Assert.Equal(File.ReadAllBytes(oneByOne[i].Path), File.ReadAllBytes(together[i].Path));
        }
        using var reopened = DataStore.Open(_together.Dir, segmentBytes: limit, preallocate: preallocate);
        Assert.Equal(records + 1, reopened.NextIndex);
    }

    [Fact]
    public void ASegmentThatCannotBeMadeInTheMiddleOfACallKeepsWhatWentBeforeIt()
    {
        var batches = Batches(1, 60);
        var expected = ExpectedSegments(batches, SmallSegments);
        // Where the second segment's file would go, a directory: making it fails (for root too), as a full or broken
        // disk would, after the first segment's share of the call is written.
        var blocked = _together.Segment(expected[1].FirstIndex);
        Directory.CreateDirectory(blocked);
        using (var store = DataStore.Open(_together.Dir, segmentBytes: SmallSegments))
        {
            var refused = Assert.ThrowsAny<Exception>(() => store.Write(batches));
            Assert.True(refused is IOException or UnauthorizedAccessException, refused.ToString());
            // Nothing beyond the first segment counts as written: the next write must start where it ended.
            using var after = new LogBuffer();
            after.Append(expected[1].FirstIndex + 1, new Tick { Now = 1 });
            Assert.Throws<InvalidOperationException>(() => store.Write(after));
        }
        DisposeAll(batches);
        Directory.Delete(blocked);

        Assert.Equal(expected[0].Length, new FileInfo(_together.Segment(1)).Length);
        using var reopened = DataStore.Open(_together.Dir, segmentBytes: SmallSegments);
        Assert.Equal(expected[1].FirstIndex, reopened.NextIndex);
        Assert.Equal(0, reopened.Report.TruncatedBytes);
    }

    [Fact]
    public void ABatchThatDoesNotContinueTheOnesBeforeItIsRefusedAndNothingOfTheCallIsWritten()
    {
        using var store = DataStore.Open(_together.Dir);
        var batches = Batches(1, 3);
        using var gap = new LogBuffer();
        gap.Append(batches.Sum(b => b.Records) + 2, new Tick { Now = 5 });

        Assert.Throws<InvalidOperationException>(() => store.Write([.. batches, gap]));
        store.Sync();
        Assert.Equal(LogFormat.SegmentHeaderSize, new FileInfo(_together.Segment(1)).Length);

        // The log goes on from where it was: the same batches, without the gap, are written.
        store.Write(batches);
        store.Sync();
        Assert.True(new FileInfo(_together.Segment(1)).Length > LogFormat.SegmentHeaderSize);
        DisposeAll(batches);
    }

    [Fact]
    public void EmptyBatchesStartNoSegment()
    {
        long next;
        using (var store = DataStore.Open(_together.Dir, segmentBytes: SmallSegments))
        {
            // One batch larger than a segment: the segment is past its limit after it.
            using var big = new LogBuffer();
            for (var i = 1; i <= 40; i++)
            {
                big.Append(i, new Tick { Now = i });
            }
            Assert.True(big.Length > SmallSegments);
            store.Write(big);
            using var empty1 = new LogBuffer();
            using var empty2 = new LogBuffer();
            store.Write([empty1, empty2]);
            store.Sync();
            next = 41;
        }
        Assert.Single(_together.Segments());
        using var reopened = DataStore.Open(_together.Dir, segmentBytes: SmallSegments);
        Assert.Equal(next, reopened.NextIndex);
    }
}
