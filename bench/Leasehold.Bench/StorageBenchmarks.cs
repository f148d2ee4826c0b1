using BenchmarkDotNet.Attributes;
using Leasehold.Core;
using Leasehold.Storage;

namespace Leasehold.Bench;

/// <summary>
/// What the server's log adds to each change. <see cref="AppendAcquireAndRelease"/>: framing one granted
/// acquire and one release into a batch buffer (the writer thread's share). <see cref="WriteAndFsync"/>:
/// one small batch written and fsynced in a temporary data directory (the flusher's share under the
/// default fsync policy; group commit spreads one fsync over every request of the batches waiting), with the
/// segment preallocated to its size limit as the server does, or growing with each write as before.
/// </summary>
[MemoryDiagnoser]
public class StorageBenchmarks
{
    private const int RecordsPerBuffer = 512;

    private AcquireLease _acquire = null!;
    private ReleaseLease _release = null!;
    private DirectoryInfo _dir = null!;
    private DataStore _store = null!;

    /// <summary>Whether the log segment is preallocated (the server's way) or grows as it is written.</summary>
    [Params(false, true)]
    public bool Preallocate { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _acquire = new AcquireLease { Paths = [BenchPaths.Parse("/u/g1/p42")], Token = new UInt128(ulong.MaxValue, 12345), Now = 1_700_000_000_000 };
        _release = new ReleaseLease { LeaseId = 123_456, Token = new UInt128(ulong.MaxValue, 12345), Now = 1_700_000_000_001 };
        _dir = Directory.CreateTempSubdirectory("leasehold-bench-");
        _store = DataStore.Open(_dir.FullName, preallocate: Preallocate);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        _dir.Delete(recursive: true);
    }

    /// <summary>One operation = an acquire record and a release record appended to a batch buffer.</summary>
    [Benchmark(OperationsPerInvoke = RecordsPerBuffer)]
    public int AppendAcquireAndRelease()
    {
        using var buffer = new LogBuffer();
        for (var i = 0; i < RecordsPerBuffer; i++)
        {
            buffer.Append(2L * i, _acquire);
            buffer.Append((2L * i) + 1, _release);
        }
        return buffer.Length;
    }

    /// <summary>One operation = a batch of one acquire record written to the log and fsynced.</summary>
    [Benchmark]
    public void WriteAndFsync()
    {
        using var buffer = new LogBuffer();
        buffer.Append(_store.NextIndex++, _acquire);
        _store.Write(buffer);
        _store.Sync();
    }
}
