using System.Buffers;
using System.Collections.Concurrent;
using Leasehold.Core;
using Leasehold.Storage;

namespace Leasehold.Server.Engine;

/// <summary>
/// A second engine on a thread of its own that follows the log: the flusher hands it every batch of records
/// once they are written, and it decodes and applies them exactly as recovery replays a segment (the engine
/// is deterministic, so it holds the writer's state as of the last record it applied). Snapshots are encoded
/// from it at the record the flusher cut the log at, so the writer never stops for one; the price is a second
/// copy of the state in memory (docs/storage.md).
/// <para>It starts from a copy of the recovered engine. If it ever cannot apply a record
/// (a bug: recovery would then fail on the same record), it drops its state and says so; the next snapshot is
/// encoded on the writer, as before this replica existed, and seeds it again.</para>
/// </summary>
internal sealed partial class SnapshotReplica
{
    private readonly BlockingCollection<Step> _steps = [];
    private readonly DataStore _store;
    private readonly EngineLimits _limits;
    private readonly ILogger _logger;
    private readonly Action<long, long, Exception?> _finished;
    private volatile bool _tracking;
    private int _started;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Chunks of copied records: filled by the flusher (the current one), given back by the replica once applied.
    private const int ChunkBytes = 1 << 20;
    private const int FreeChunks = 64;
    private readonly ConcurrentQueue<byte[]> _free = new();
    private byte[]? _chunk;
    private int _chunkUsed;
    private byte[]? _reading;
    private LockEngine? _engine;
    private long _applied;

    /// <param name="store">Where snapshots are written.</param>
    /// <param name="engine">The state as of record <paramref name="applied"/>: a copy of the writer's, never the writer's own.</param>
    /// <param name="applied">The index of the last record <paramref name="engine"/> holds.</param>
    /// <param name="logger">Where a record that cannot be applied is reported.</param>
    /// <param name="finished">Called on the replica's thread after each snapshot: its index, its size in bytes, and why it failed or null.</param>
    public SnapshotReplica(DataStore store, LockEngine engine, long applied, ILogger logger, Action<long, long, Exception?> finished)
    {
        _store = store;
        _limits = engine.Limits;
        _engine = engine;
        _applied = applied;
        _tracking = true;
        _logger = logger;
        _finished = finished;
    }

    /// <summary>
    /// Starts the replica's thread (with the flusher: <see cref="StoreLog.Start"/>); steps handed over before wait for
    /// it. Only the first call starts it; <see cref="CloseAsync"/> starts it too, so that a replica closed before it
    /// started still ends.
    /// </summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            new Thread(Run) { IsBackground = true, Name = "leasehold-snapshots" }.Start();
        }
    }

    /// <summary>Chunks of records taken back from the replica and filled again (flusher thread; for tests).</summary>
    public int ChunksReused { get; private set; }

    /// <summary>The index of the last record applied (for tests).</summary>
    public long Applied => Volatile.Read(ref _applied);

    /// <summary>Whether the replica holds the state (false before its seed and after it lost track): read by the writer.</summary>
    public bool Tracking => _tracking;

    /// <summary>
    /// The state as of record <paramref name="index"/>, as snapshot bytes the writer encoded after the replica lost
    /// track: the replica starts over from it, and writes it as the snapshot of <paramref name="index"/>.
    /// </summary>
    public void Seed(long index, ArrayBufferWriter<byte> bytes) => _steps.Add(new SeedStep(index, bytes));

    /// <summary>
    /// Records the flusher has written (flusher thread), copied into the current chunk. While the replica encodes a
    /// snapshot, seconds of records wait in the queue: in fresh arrays they would survive collections and be copied
    /// from generation to generation (GC pauses of a second were measured); in chunks that are reused they are not.
    /// </summary>
    public void Apply(LogBuffer records)
    {
        var bytes = records.Written;
        if (_chunk is null || _chunk.Length - _chunkUsed < bytes.Length)
        {
            // The replica gives the previous chunk back once it reaches a step in another one.
            if (bytes.Length <= ChunkBytes && _free.TryDequeue(out var reused))
            {
                _chunk = reused;
                ChunksReused++;
            }
            else
            {
                _chunk = new byte[Math.Max(bytes.Length, ChunkBytes)];
            }
            _chunkUsed = 0;
        }
        bytes.CopyTo(_chunk.AsSpan(_chunkUsed));
        _steps.Add(new RecordsStep(records.FirstIndex, _chunk, _chunkUsed, bytes.Length));
        _chunkUsed += bytes.Length;
    }

    /// <summary>The log was cut after <paramref name="index"/>: encode and write the state as of that record.</summary>
    public void Snapshot(long index) => _steps.Add(new SnapshotStep(index));

    /// <summary>No step follows; the task completes once every step handed over is done.</summary>
    public Task CloseAsync()
    {
        _steps.CompleteAdding();
        Start();
        return _done.Task;
    }

    private void Run()
    {
        try
        {
            foreach (var step in _steps.GetConsumingEnumerable())
            {
                switch (step)
                {
                    case RecordsStep records:
                        ApplyRecords(records);
                        break;
                    case SnapshotStep snapshot:
                        Write(snapshot.Index, null);
                        break;
                    case SeedStep seed:
                        Write(seed.Index, seed);
                        break;
                }
            }
        }
        finally
        {
            _steps.Dispose();
            _done.TrySetResult();
        }
    }

    private void ApplyRecords(RecordsStep records)
    {
        if (!ReferenceEquals(records.Chunk, _reading))
        {
            // The flusher has moved on from the chunk before: nothing refers to it any more.
            if (_reading is { Length: ChunkBytes } done && _free.Count < FreeChunks)
            {
                _free.Enqueue(done);
            }
            _reading = records.Chunk;
        }
        if (_engine is not { } engine)
        {
            return;
        }
        var first = _applied + 1;
        try
        {
            if (records.FirstIndex != first)
            {
                throw new InvalidOperationException($"records from {records.FirstIndex} handed over while the replica is at {_applied}");
            }
            LogReader.ReadRecords(records.Chunk.AsSpan(records.Offset, records.Length), first, "(records handed to the snapshot replica)", (index, command) =>
            {
                engine.Apply(command);
                Volatile.Write(ref _applied, index);
            });
            engine.DiscardOutcomes();
        }
        catch (Exception ex)
        {
            // Its state is no longer the writer's: keep nothing of it, and let the next snapshot seed it again.
            Drop();
            LogLostTrack(ex, _applied + 1);
        }
    }

    /// <summary>Writes the snapshot of <paramref name="index"/>: encoded from the replica, or the seed's bytes (and seeds the replica).</summary>
    private void Write(long index, SeedStep? seed)
    {
        Exception? error = null;
        long size = 0;
        try
        {
            if (seed is not null)
            {
                Drop();
                (_, _engine) = SnapshotLoader.Load("(snapshot replica's seed)", seed.Bytes.WrittenSpan, _limits);
                Volatile.Write(ref _applied, index);
                _tracking = true;
                size = seed.Bytes.WrittenCount;
                _store.WriteSnapshot(index, seed.Bytes.WrittenSpan);
            }
            else if (_engine is null)
            {
                throw new InvalidOperationException($"the snapshot replica has no state to take the snapshot of record {index} from; the next snapshot is encoded on the writer");
            }
            else if (_applied != index)
            {
                Drop();
                throw new InvalidOperationException($"the log was cut after record {index} but the snapshot replica is at record {_applied}; the next snapshot is encoded on the writer");
            }
            else
            {
                // Streamed to the file: a state of a million leases needs no 100 MB buffer (nor the garbage of growing
                // one). Each MiB is synced as it is written, so that the disk never holds a long queue of snapshot
                // writes for the log's fsyncs to wait behind.
                var engine = _engine;
                _store.WriteSnapshot(index, file => size = SnapshotCodec.EncodeTo(file, index, engine.Capture(), () => ((FileStream)file).Flush(flushToDisk: true)));
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }
        _finished(index, size, error);
    }

    private void Drop()
    {
        _tracking = false;
        _engine = null;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The snapshot replica could not apply record {Index} and dropped its state; the log keeps everything, and the next snapshot is encoded on the writer (which pauses it) to start the replica again")]
    private partial void LogLostTrack(Exception ex, long index);

    private abstract record Step;

    private sealed record RecordsStep(long FirstIndex, byte[] Chunk, int Offset, int Length) : Step;

    private sealed record SnapshotStep(long Index) : Step;

    private sealed record SeedStep(long Index, ArrayBufferWriter<byte> Bytes) : Step;
}
