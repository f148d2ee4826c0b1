using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Leasehold.Storage;

/// <summary>Little-endian primitives and length-prefixed UTF-8 strings, appended to a buffer writer.</summary>
internal static class BinaryOut
{
    public static void Byte(IBufferWriter<byte> w, byte value)
    {
        w.GetSpan(1)[0] = value;
        w.Advance(1);
    }

    public static void Bool(IBufferWriter<byte> w, bool value) => Byte(w, value ? (byte)1 : (byte)0);

    public static void Int32(IBufferWriter<byte> w, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), value);
        w.Advance(4);
    }

    public static void Int64(IBufferWriter<byte> w, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), value);
        w.Advance(8);
    }

    public static void UInt128(IBufferWriter<byte> w, UInt128 value)
    {
        BinaryPrimitives.WriteUInt128LittleEndian(w.GetSpan(16), value);
        w.Advance(16);
    }

    /// <summary>A string as its UTF-8 byte count plus one (0 means null), then the bytes.</summary>
    public static void String(IBufferWriter<byte> w, string? value)
    {
        if (value is null)
        {
            Int32(w, 0);
            return;
        }
        var count = Encoding.UTF8.GetByteCount(value);
        Int32(w, count + 1);
        Encoding.UTF8.GetBytes(value, w.GetSpan(count));
        w.Advance(count);
    }
}

/// <summary>Reads what <see cref="BinaryOut"/> wrote; running past the end throws <see cref="FormatException"/>.</summary>
internal ref struct BinaryIn(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> _rest = data;

    public readonly int Remaining => _rest.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _rest.Length)
        {
            throw new FormatException("the record ends early");
        }
        var taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }

    public byte Byte() => Take(1)[0];

    public bool Bool() => Byte() switch
    {
        0 => false,
        1 => true,
        var b => throw new FormatException($"{b} is not a boolean"),
    };

    public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    /// <summary>A count of items of at least <paramref name="minItemBytes"/> each: never more than the bytes left could hold.</summary>
    public int Count(int minItemBytes)
    {
        var count = Int32();
        return count >= 0 && count <= Remaining / minItemBytes ? count : throw new FormatException($"impossible count {count}");
    }

    public byte[] Bytes(int count) => Take(count).ToArray();

    public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public UInt128 UInt128() => BinaryPrimitives.ReadUInt128LittleEndian(Take(16));

    public string? String()
    {
        var count = Int32();
        return count == 0 ? null : Encoding.UTF8.GetString(Take(count - 1));
    }
}
