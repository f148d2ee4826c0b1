using System.Buffers;
using System.Buffers.Binary;
using Leasehold.Core;

namespace Leasehold.Storage;

/// <summary>
/// Framed log records of one batch, built by the writer and written by the flusher. The array comes from
/// the shared pool and goes back to it after the write, so steady logging allocates no buffers.
/// </summary>
public sealed class LogBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array = ArrayPool<byte>.Shared.Rent(64 * 1024);

    public int Length { get; private set; }

    public int Records { get; private set; }

    /// <summary>The index of the first record in the buffer (valid when <see cref="Records"/> &gt; 0).</summary>
    public long FirstIndex { get; private set; }

    public ReadOnlySpan<byte> Written => _array.AsSpan(0, Length);

    /// <summary><see cref="Written"/> as memory, for a write of several buffers at once.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, Length);

    /// <summary>Appends <paramref name="command"/> as record number <paramref name="index"/>, in log <paramref name="version"/>'s layout.</summary>
    public void Append(long index, Command command, int version = LogFormat.Version)
    {
        if (Records == 0)
        {
            FirstIndex = index;
        }
        var start = Length;
        GetSpan(LogFormat.RecordHeaderSize);
        Advance(LogFormat.RecordHeaderSize);
        CommandCodec.Write(this, command, version);
        var payloadLength = Length - start - LogFormat.RecordHeaderSize;
        var record = _array.AsSpan(start, Length - start);
        BinaryPrimitives.WriteInt32LittleEndian(record, payloadLength);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C.Compute(record[8..]));
        Records++;
    }

    public void Advance(int count) => Length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(Length);
    }

    private void Ensure(int sizeHint)
    {
        var needed = Length + Math.Max(sizeHint, 256);
        if (needed <= _array.Length)
        {
            return;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _array.Length * 2));
        _array.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_array);
        _array = [];
        Length = 0;
    }
}
