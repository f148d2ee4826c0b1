using System.Buffers.Binary;
using System.Text;

namespace Leasehold.Protocol.Native;

/// <summary>
/// Writes fields into a span sized beforehand with the <c>Size</c> helpers (a frame's length comes first, so a
/// message is measured, then written in one piece straight into the output: no intermediate buffer).
/// </summary>
public ref struct PayloadWriter(Span<byte> span)
{
    private readonly Span<byte> _span = span;
    private int _position;

    /// <summary>Bytes written so far.</summary>
    public readonly int Written => _position;

    public void U8(byte value) => _span[_position++] = value;

    public void U16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_span[_position..], value);
        _position += 2;
    }

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_span[_position..], value);
        _position += 4;
    }

    public void I32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_span[_position..], value);
        _position += 4;
    }

    public void U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_span[_position..], value);
        _position += 8;
    }

    public void I64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_span[_position..], value);
        _position += 8;
    }

    /// <summary>A <c>str</c> or <c>str?</c> (null writes 0xFFFF).</summary>
    public void String(string? value)
    {
        if (value is null)
        {
            U16(NativeProtocol.NullString);
            return;
        }
        var written = Encoding.UTF8.GetBytes(value, _span[(_position + 2)..]);
        U16((ushort)written);
        _position += written;
    }

    /// <summary>A <c>bytes?</c> (null writes 0xFFFFFFFF).</summary>
    public void Bytes(ReadOnlySpan<byte> value, bool isNull)
    {
        if (isNull)
        {
            U32(NativeProtocol.NullBytes);
            return;
        }
        U32((uint)value.Length);
        value.CopyTo(_span[_position..]);
        _position += value.Length;
    }

    /// <summary>Raw bytes with no length.</summary>
    public void Raw(scoped ReadOnlySpan<byte> value)
    {
        value.CopyTo(_span[_position..]);
        _position += value.Length;
    }

    /// <summary>The bytes of a <c>str</c>/<c>str?</c> field. Text over 65,534 UTF-8 bytes is a caller's bug.</summary>
    public static int SizeOf(string? value)
    {
        if (value is null)
        {
            return 2;
        }
        var bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > NativeProtocol.MaxStringBytes)
        {
            throw new ArgumentException($"a str field holds at most {NativeProtocol.MaxStringBytes} UTF-8 bytes, not {bytes}", nameof(value));
        }
        return 2 + bytes;
    }

    /// <summary>The bytes of a <c>bytes?</c> field.</summary>
    public static int SizeOf(byte[]? value) => 4 + (value?.Length ?? 0);
}
