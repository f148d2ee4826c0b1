using System.Diagnostics;
using Leasehold.Core;

namespace Leasehold.Storage;

/// <summary>Start-up: lock, check the directory against its manifest, load the snapshot, replay the log.</summary>
public sealed partial class DataStore
{
    /// <summary>
    /// Locks the directory (a second server on it fails here), checks that every file the manifest lists is
    /// there, loads the newest snapshot, replays the log after it, cuts a torn tail, and opens the log for
    /// appending. Nothing is changed on disk until every check has passed.
    /// </summary>
    /// <param name="dir">The data directory; created (0700 on Unix) if missing.</param>
    /// <param name="limits">The engine's limits.</param>
    /// <param name="segmentBytes">A segment rolls over once it is this long.</param>
    /// <param name="preallocate">
    /// Allocate each new segment's space up front (the server does; see <see cref="Preallocate"/>). Either way, a
    /// segment that ends in unwritten (zero) space is read up to its last record.
    /// </param>
    /// <param name="acceptDataLoss">
    /// Start from what is there when files are missing or emptied, instead of refusing: the losses are listed
    /// in <see cref="RecoveryReport.Lost"/>, segments after a hole are moved aside, and the manifest is rewritten.
    /// So are zeros where records should be, followed by records (a copy of a running server's directory). Any other
    /// damage inside a file still refuses.
    /// </param>
    public static DataStore Open(string dir, EngineLimits? limits = null, long segmentBytes = 64L << 20, bool acceptDataLoss = false, bool preallocate = false)
    {
        var notes = new List<string>(PrivateFiles.CreateDirectory(dir));
        FileStream lockFile;
        try
        {
            lockFile = PrivateFiles.Create(Path.Combine(dir, LogFormat.LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"the data directory {dir} is in use by another Leasehold server ({ex.Message})", ex);
        }
        try
        {
            var clock = Stopwatch.StartNew();
            foreach (var tmp in System.IO.Directory.EnumerateFiles(dir, "*.tmp"))
            {
                File.Delete(tmp);
            }
            var lost = new List<string>();
            var manifest = ReadManifest(dir, acceptDataLoss, lost);
            var (snapshotIndex, engine) = LoadSnapshot(dir, limits);
            if (manifest is not null)
            {
                CheckListedFiles(dir, manifest, snapshotIndex, acceptDataLoss, lost);
            }
            else if (LogReader.Segments(dir).Count > 0 || System.IO.Directory.EnumerateFiles(dir, "snapshot-*.snap").Any())
            {
                notes.Add("the data directory has no manifest (it was written by a version without one): wrote one listing the files found");
            }
            long replayed = 0;
            var latest = SnapshotLoader.LatestTime(engine);
            var end = LogReader.Replay(dir, snapshotIndex, (_, command) =>
            {
                engine.Apply(command);
                latest = Math.Max(latest, command.Now);
                replayed++;
            }, acceptDataLoss);
            lost.AddRange(end.Lost);
            engine.DiscardOutcomes();
            var next = Math.Max(end.NextIndex, snapshotIndex + 1);
            if (manifest is not null && next - 1 < manifest.Through)
            {
                var problem = $"the log ends at record {next - 1} but the manifest says records up to {manifest.Through} were written (a segment is missing or was cut)";
                if (!acceptDataLoss)
                {
                    var file = end.LastSegment ?? Path.Combine(dir, LogFormat.ManifestFile);
                    throw CorruptDataException.MissingData(file, $"{Path.GetFileName(file)}: {problem}");
                }
                lost.Add(problem);
            }

            // Every check passed: from here on, start-up changes files.
            if (end.TornSegment is not null)
            {
                if (end.KeepCut)
                {
                    lost.Add(KeepAside(end.TornSegment, end.TornOffset));
                }
                Truncate(end.TornSegment, end.TornOffset);
            }
            foreach (var path in end.Unusable)
            {
                lost.Add(MoveAside(path));
            }
            var report = new RecoveryReport(snapshotIndex, replayed, end.TruncatedBytes, clock.Elapsed, next)
            {
                LatestTime = latest,
                TornSegment = end.TornSegment,
                TornOffset = end.TornOffset,
                Lost = lost.Count > 0 ? lost : Array.Empty<string>(),
                Notes = notes.Count > 0 ? notes : Array.Empty<string>(),
            };
            var store = new DataStore(dir, lockFile, segmentBytes, preallocate, engine, report);
            foreach (var (first, _) in LogReader.Segments(dir))
            {
                store._listed.Add(first);
            }
            store._listedSnapshot = snapshotIndex;
            store._through = next - 1;
            // A last segment shorter than its header (a crash while creating it) is cut to nothing: write it again, header first.
            // One of an older format is left as it is: new records go to a new segment, so each segment is read under one rule.
            if (end.LastSegment is not null && end.NextIndex == next && end.LastSegmentLength >= LogFormat.SegmentHeaderSize
                && end.LastSegmentVersion == LogFormat.Version)
            {
                store.Continue(end.LastSegment, end.LastSegmentLength, next);
                store.WriteManifest();
            }
            else
            {
                // The last segment was read from the page cache: make it durable before the manifest, written
                // with the new segment, says the log reaches it (a power cut would otherwise look like lost data).
                if (end.LastSegment is not null && File.Exists(end.LastSegment))
                {
                    using var last = new FileStream(end.LastSegment, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                    if (end.LastSegmentLength >= LogFormat.SegmentHeaderSize && last.Length > end.LastSegmentLength)
                    {
                        // Its preallocated space goes: from now on it is not the last segment.
                        last.SetLength(end.LastSegmentLength);
                    }
                    last.Flush(flushToDisk: true);
                }
                store.StartSegment(next);
            }
            return store;
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    private static Manifest? ReadManifest(string dir, bool acceptDataLoss, List<string> lost)
    {
        try
        {
            return Manifest.Read(dir);
        }
        catch (CorruptDataException ex) when (acceptDataLoss)
        {
            lost.Add(ex.Message + "; what the directory should hold is unknown, so nothing could be checked");
            return null;
        }
        catch (CorruptDataException ex)
        {
            throw CorruptDataException.MissingData(ex.File, ex.Message);
        }
    }

    /// <summary>
    /// Refuses to start (or, with the loss accepted, notes the loss) when a file the manifest lists is gone:
    /// the snapshot it names, or a segment. A listed segment shorter than its header was emptied: a segment
    /// is listed only once its header is durable, so a crash cannot leave it so.
    /// </summary>
    private static void CheckListedFiles(string dir, Manifest manifest, long snapshotIndex, bool acceptDataLoss, List<string> lost)
    {
        var problems = new List<(string Path, string Text)>();
        if (manifest.SnapshotIndex > snapshotIndex)
        {
            var name = LogFormat.SnapshotName(manifest.SnapshotIndex);
            problems.Add((Path.Combine(dir, name), $"{name} is missing: the manifest lists it (the state up to record {manifest.SnapshotIndex})"));
        }
        foreach (var first in manifest.Segments)
        {
            var name = LogFormat.SegmentName(first);
            var path = Path.Combine(dir, name);
            if (!File.Exists(path))
            {
                problems.Add((path, $"{name} is missing: the manifest lists it (records from {first} on)"));
            }
            else if (new FileInfo(path).Length is var length && length < LogFormat.SegmentHeaderSize)
            {
                problems.Add((path, $"{name} holds {length} bytes, less than its header, but the manifest lists it as written: its records are missing (from {first} on)"));
            }
        }
        if (problems.Count == 0)
        {
            return;
        }
        if (!acceptDataLoss)
        {
            throw CorruptDataException.MissingData(problems[0].Path, string.Join("; ", problems.Select(p => p.Text)));
        }
        lost.AddRange(problems.Select(p => p.Text));
    }

    private static (long Index, LockEngine Engine) LoadSnapshot(string dir, EngineLimits? limits)
    {
        var newest = System.IO.Directory.EnumerateFiles(dir, "snapshot-*.snap")
            .Select(f => (Ok: LogFormat.TryParseIndex(Path.GetFileName(f), "snapshot-", ".snap", out var i), Index: i, File: f))
            .Where(s => s.Ok)
            .OrderByDescending(s => s.Index)
            .FirstOrDefault();
        if (newest.File is null)
        {
            return (0, new LockEngine(limits));
        }
        var (index, engine) = SnapshotLoader.Load(newest.File, File.ReadAllBytes(newest.File), limits);
        if (index != newest.Index)
        {
            throw new CorruptDataException(newest.File, 16, $"the snapshot says it covers record {index}, its name says {newest.Index}");
        }
        return (index, engine);
    }

    private static void Truncate(string path, long length)
    {
        using var file = PrivateFiles.Create(path, FileMode.Open, FileAccess.Write);
        file.SetLength(length);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Renames a segment that cannot be replayed out of the log (never deletes it: the operator may want it).</summary>
    private static string MoveAside(string path)
    {
        var target = LostName(path);
        File.Move(path, target);
        return $"{Path.GetFileName(path)} comes after the missing records and was moved aside as {Path.GetFileName(target)}";
    }

    /// <summary>Copies what is about to be cut from a segment (from <paramref name="offset"/> on) into a file of its own, as <see cref="MoveAside"/> keeps a whole segment.</summary>
    private static string KeepAside(string path, long offset)
    {
        var target = LostName(path);
        var cut = File.ReadAllBytes(path).AsSpan((int)offset);
        // Up to its last byte that is not zero: the rest of a preallocated segment was never written.
        cut = cut[..(cut.LastIndexOfAnyExcept((byte)0) + 1)];
        using (var copy = PrivateFiles.Create(target, FileMode.CreateNew, FileAccess.Write))
        {
            copy.Write(cut);
            copy.Flush(flushToDisk: true);
        }
        NativeFile.SyncDirectory(Path.GetDirectoryName(path)!);
        return $"{Path.GetFileName(path)} from offset {offset} on was kept aside as {Path.GetFileName(target)} before the cut";
    }

    private static string LostName(string path)
    {
        const int Attempts = 1000;
        for (var n = 0; n < Attempts; n++)
        {
            var target = path + LogFormat.LostSuffix + (n == 0 ? "" : $".{n}");
            if (!File.Exists(target))
            {
                return target;
            }
        }
        throw new IOException($"cannot move {path} aside: {Attempts} earlier copies are in the way");
    }
}
