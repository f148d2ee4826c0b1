using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using Leasehold.Storage;

namespace Leasehold.Crash.Tests;

/// <summary>
/// The real server process on a data directory an operator (or a crash) changed underneath it: a deleted log
/// segment refuses to start with one line naming it, unless the loss is accepted with --accept-data-loss; stale
/// bytes after the last record are cut with a warning; the directory and its files are the server user's alone.
/// </summary>
public sealed class DataDirectoryTests : IDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SnapshotDeadline = TimeSpan.FromSeconds(15);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "leasehold-datadir-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Where a segment's records end: after the header, each record's length field, up to the first that is zero (space never written).</summary>
    private static long DataEnd(string segment)
    {
        var data = File.ReadAllBytes(segment);
        var offset = LogFormat.SegmentHeaderSize;
        while (offset + LogFormat.RecordHeaderSize <= data.Length && BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset)) is > 0 and var length)
        {
            offset += LogFormat.RecordHeaderSize + length;
        }
        return offset;
    }

    private string[] Segments() => [.. Directory.GetFiles(_root, "wal-*.log").Order(StringComparer.Ordinal)];

    private async Task<LeaseView> AcquireAsync(ServerProcess server, string path)
    {
        using var api = new LeaseholdApi(server.BaseAddress);
        var reply = await api.AcquireAsync(new AcquireBody { Path = path, Owner = "data-dir-test" });
        Assert.True(reply.Status == HttpStatusCode.Created, $"acquire {path}: {reply}");
        return reply.As<LeaseView>();
    }

    /// <param name="snapshotEvery">
    /// 0: no snapshot, the only segment is deleted. 3: the start's Recover record and two acquires make the snapshot,
    /// and the segment after it, holding the last acquire, is deleted.
    /// </param>
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public async Task DeletedSegmentRefusesToStartNamingItUnlessTheLossIsAccepted(int snapshotEvery)
    {
        string[] settings = snapshotEvery == 0 ? [] : [$"--Leasehold:SnapshotEvery={snapshotEvery}"];
        LeaseView last;
        using (var server = new ServerProcess(_root, settings))
        {
            await server.StartAsync(StartDeadline);
            for (var i = 1; i < 3; i++)
            {
                await AcquireAsync(server, $"/kept/{i}");
            }
            if (snapshotEvery > 0)
            {
                await WaitForAsync(() => Directory.GetFiles(_root, "*.snap").Length > 0, "a snapshot");
            }
            last = await AcquireAsync(server, "/last");
            await server.KillAsync();
        }
        var deleted = Segments()[^1];
        File.Delete(deleted);
        var name = Path.GetFileName(deleted);

        using (var refused = new ServerProcess(_root, settings))
        {
            var code = await refused.StartExpectingRefusalAsync(StartDeadline);
            Assert.Equal(2, code);
            var output = refused.OutputTail;
            Assert.Contains($"leasehold: cannot start: {name} is missing", output, StringComparison.Ordinal);
            Assert.Contains("--accept-data-loss", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }
        Assert.False(File.Exists(deleted));

        using (var accepted = new ServerProcess(_root, [.. settings, "--accept-data-loss"]))
        {
            await accepted.StartAsync(StartDeadline);
            Assert.Contains(name, accepted.OutputTail, StringComparison.Ordinal);
            Assert.Contains("warn", accepted.OutputTail, StringComparison.Ordinal);
            using var api = new LeaseholdApi(accepted.BaseAddress);
            Assert.Equal(HttpStatusCode.NotFound, (await api.GetLeaseAsync(last.Id)).Status);
            await accepted.KillAsync();
        }

        // The manifest was rewritten: an ordinary start works again.
        using var plain = new ServerProcess(_root, settings);
        await plain.StartAsync(StartDeadline);
        await AcquireAsync(plain, "/after");
    }

    [Theory]
    [InlineData(1, -1)]
    [InlineData(2, int.MinValue)]
    [InlineData(3, 1000)]
    public async Task StaleBytesAfterTheLastRecordAreCutWithAWarning(int seed, int firstWord)
    {
        LeaseView held;
        using (var server = new ServerProcess(_root))
        {
            await server.StartAsync(StartDeadline);
            held = await AcquireAsync(server, "/held");
            await server.KillAsync();
        }
        var segment = Segments()[^1];
        // Right after the last record: the segment's preallocated space follows it.
        var end = DataEnd(segment);
        var garbage = new byte[4096];
        new Random(seed).NextBytes(garbage);
        BinaryPrimitives.WriteInt32LittleEndian(garbage, firstWord);
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = end;
            file.Write(garbage);
        }

        using var restarted = new ServerProcess(_root);
        await restarted.StartAsync(StartDeadline);
        Assert.Contains($"{Path.GetFileName(segment)} at offset {end}", restarted.OutputTail, StringComparison.Ordinal);
        using var api = new LeaseholdApi(restarted.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, (await api.GetLeaseAsync(held.Id)).Status);
    }

    /// <summary>
    /// A copy of a running server's directory that read a stretch of the newest (preallocated) segment before the server
    /// wrote records there, and a later stretch after: zeros where records should be, records after them. Start-up refuses,
    /// naming the place; accepting the loss starts with the records before it.
    /// </summary>
    [Fact]
    public async Task ZerosWhereRecordsShouldBeRefuseToStartUnlessTheLossIsAccepted()
    {
        LeaseView kept;
        using (var server = new ServerProcess(_root))
        {
            await server.StartAsync(StartDeadline);
            kept = await AcquireAsync(server, "/kept");
            for (var i = 0; i < 3; i++)
            {
                await AcquireAsync(server, $"/copied-late/{i}");
            }
            await server.KillAsync();
        }
        var segment = Segments()[^1];
        var data = File.ReadAllBytes(segment);
        // The records after the one granting /kept: the first two of them read as zeros, the last one intact.
        var offsets = new List<int>();
        var offset = LogFormat.SegmentHeaderSize;
        while (offset < DataEnd(segment))
        {
            offsets.Add(offset);
            offset += LogFormat.RecordHeaderSize + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset));
        }
        var from = offsets[^3];
        data.AsSpan(from, offsets[^1] - from).Clear();
        File.WriteAllBytes(segment, data);
        var name = Path.GetFileName(segment);

        using (var refused = new ServerProcess(_root))
        {
            Assert.Equal(2, await refused.StartExpectingRefusalAsync(StartDeadline));
            Assert.Contains($"leasehold: cannot start: {name} at offset {from}: zeros where record", refused.OutputTail, StringComparison.Ordinal);
            Assert.Contains("--accept-data-loss", refused.OutputTail, StringComparison.Ordinal);
        }
        Assert.Equal(data, File.ReadAllBytes(segment));

        using var accepted = new ServerProcess(_root, ["--accept-data-loss"]);
        await accepted.StartAsync(StartDeadline);
        Assert.Contains("are lost", accepted.OutputTail, StringComparison.Ordinal);
        // What was cut, the zeros and the intact record after them, is kept aside.
        Assert.True(new FileInfo(segment + LogFormat.LostSuffix).Length > offsets[^1] - from, "the cut was not kept aside");
        using var api = new LeaseholdApi(accepted.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, (await api.GetLeaseAsync(kept.Id)).Status);
        await AcquireAsync(accepted, "/copied-late/2");
    }

    [Fact]
    public async Task DataDirectoryAndFilesAreReadableByTheServerUserAlone()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var server = new ServerProcess(_root);
        await server.StartAsync(StartDeadline);
        await AcquireAsync(server, "/private");
        AssertOwnerOnly();
    }

    [UnsupportedOSPlatform("windows")]
    private void AssertOwnerOnly()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_root));
        var files = Directory.GetFiles(_root);
        Assert.True(files.Length >= 3, string.Join(", ", files.Select(Path.GetFileName)));
        foreach (var file in files)
        {
            Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{Path.GetFileName(file)}: {File.GetUnixFileMode(file)}");
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < SnapshotDeadline, $"no {what} within {SnapshotDeadline.TotalSeconds} s");
            await Task.Delay(20);
        }
    }
}
