namespace Leasehold.Storage;

/// <summary>Keeping the manifest true as segments come and go (flusher thread) and snapshots replace them (snapshot thread).</summary>
public sealed partial class DataStore
{
    private readonly Lock _manifestLock = new();
    private readonly SortedSet<long> _listed = [];
    private long _listedSnapshot;
    private long _through;

    /// <summary>Lists a segment whose header is durable, and every record before it as written.</summary>
    private void RecordSegment(long firstIndex)
    {
        lock (_manifestLock)
        {
            _listed.Add(firstIndex);
            _through = Math.Max(_through, firstIndex - 1);
            WriteManifest();
        }
    }

    /// <summary>The caller holds <see cref="_manifestLock"/>, or is <see cref="Open"/> before anyone else can.</summary>
    private void WriteManifest() => new Manifest(_listedSnapshot, _through, [.. _listed]).Write(_dir);

    /// <summary>
    /// Writes a snapshot file atomically (temporary file, fsync, rename, directory fsync), records it in the
    /// manifest, then deletes the segments and snapshots it makes unnecessary. The manifest changes before
    /// any file is deleted, so that it never lists a file a crash could have removed. Safe to run beside the
    /// flusher: it touches only files before the segment that <see cref="CutAt"/> started.
    /// </summary>
    public void WriteSnapshot(long index, ReadOnlySpan<byte> bytes)
    {
        var final = Path.Combine(_dir, LogFormat.SnapshotName(index));
        using (var file = PrivateFiles.Create(final + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        Publish(index, final);
    }

    /// <summary>
    /// <see cref="WriteSnapshot(long, ReadOnlySpan{byte})"/> with the file's bytes written by <paramref name="write"/>
    /// (e.g. <see cref="SnapshotCodec.EncodeTo"/>, which streams a large state without buffering it whole).
    /// </summary>
    public void WriteSnapshot(long index, Action<Stream> write)
    {
        var final = Path.Combine(_dir, LogFormat.SnapshotName(index));
        using (var file = PrivateFiles.Create(final + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1))
        {
            write(file);
            file.Flush(flushToDisk: true);
        }
        Publish(index, final);
    }

    /// <summary>Puts the durable temporary file of the snapshot of <paramref name="index"/> in place, then retires what it replaces.</summary>
    private void Publish(long index, string final)
    {
        File.Move(final + ".tmp", final, overwrite: true);
        NativeFile.SyncDirectory(_dir);
        var replaced = LogReader.Segments(_dir).Where(s => s.FirstIndex <= index && HasSuccessorAtOrBefore(s.FirstIndex, index + 1)).ToList();
        var older = System.IO.Directory.EnumerateFiles(_dir, "snapshot-*.snap")
            .Where(f => LogFormat.TryParseIndex(Path.GetFileName(f), "snapshot-", ".snap", out var i) && i < index)
            .ToList();
        lock (_manifestLock)
        {
            _listedSnapshot = Math.Max(_listedSnapshot, index);
            _through = Math.Max(_through, index);
            foreach (var (first, _) in replaced)
            {
                _listed.Remove(first);
            }
            WriteManifest();
        }
        foreach (var (_, path) in replaced)
        {
            File.Delete(path);
        }
        foreach (var old in older)
        {
            File.Delete(old);
        }
        NativeFile.SyncDirectory(_dir);
    }

    /// <summary>True when another segment starts after <paramref name="first"/> and no later than <paramref name="limit"/>, so every record of the segment at <paramref name="first"/> is below it.</summary>
    private bool HasSuccessorAtOrBefore(long first, long limit)
        => LogReader.Segments(_dir).Any(s => s.FirstIndex > first && s.FirstIndex <= limit);
}
