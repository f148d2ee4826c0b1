using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Leasehold.Protocol.Native;

/// <summary>
/// Reads the fields of one payload. Every method returns false when the field is cut short or malformed
/// (then the payload is <c>invalid-frame</c>); <see cref="End"/> is false when bytes are left over.
/// No exceptions on bad input: a peer's mistake is an expected outcome, not a bug.
/// </summary>
public ref struct PayloadReader(ReadOnlySequence<byte> payload)
{
    private SequenceReader<byte> _reader = new(payload);

    public readonly long Remaining => _reader.Remaining;

    /// <summary>True when every byte was read.</summary>
    public readonly bool End => _reader.End;

    public bool TryU8(out byte value) => _reader.TryRead(out value);

    public bool TryU16(out ushort value)
    {
        var ok = _reader.TryReadBigEndian(out short raw);
        value = (ushort)raw;
        return ok;
    }

    public bool TryU32(out uint value)
    {
        var ok = _reader.TryReadBigEndian(out int raw);
        value = (uint)raw;
        return ok;
    }

    public bool TryI32(out int value) => _reader.TryReadBigEndian(out value);

    public bool TryU64(out ulong value)
    {
        var ok = _reader.TryReadBigEndian(out long raw);
        value = (ulong)raw;
        return ok;
    }

    public bool TryI64(out long value) => _reader.TryReadBigEndian(out value);

    /// <summary>A <c>str</c>: never null; 0xFFFF is refused.</summary>
    public bool TryString(out string value)
    {
        value = "";
        if (!TryU16(out var length) || length == NativeProtocol.NullString)
        {
            return false;
        }
        return TryText(length, out value);
    }

    /// <summary>A <c>str?</c>: 0xFFFF is null.</summary>
    public bool TryNullableString(out string? value)
    {
        value = null;
        if (!TryU16(out var length))
        {
            return false;
        }
        if (length == NativeProtocol.NullString)
        {
            return true;
        }
        var ok = TryText(length, out var text);
        value = text;
        return ok;
    }

    /// <summary>A <c>bytes?</c>: 0xFFFFFFFF is null. The bytes are copied (they outlive the buffer).</summary>
    public bool TryNullableBytes(out byte[]? value)
    {
        value = null;
        if (!TryU32(out var length))
        {
            return false;
        }
        if (length == NativeProtocol.NullBytes)
        {
            return true;
        }
        // Checked before allocating: a huge length in a small frame must not allocate its claim.
        if (length > _reader.Remaining)
        {
            return false;
        }
        var bytes = new byte[length];
        _reader.TryCopyTo(bytes);
        _reader.Advance(length);
        value = bytes;
        return true;
    }

    /// <summary>The rest of the payload, copied.</summary>
    public byte[] ReadRest()
    {
        var rest = _reader.UnreadSequence.ToArray();
        _reader.AdvanceToEnd();
        return rest;
    }

    /// <summary>A count of items each at least <paramref name="minItemBytes"/> long: refused when they cannot fit, before anything is allocated.</summary>
    public bool TryCount(int minItemBytes, out int count)
    {
        count = 0;
        if (!TryU16(out var raw) || (long)raw * minItemBytes > _reader.Remaining)
        {
            return false;
        }
        count = raw;
        return true;
    }

    private bool TryText(int length, out string value)
    {
        value = "";
        if (length > _reader.Remaining)
        {
            return false;
        }
        if (length == 0)
        {
            return true;
        }
        var span = _reader.UnreadSpan;
        if (span.Length >= length)
        {
            span = span[..length];
            if (!Utf8.IsValid(span))
            {
                return false;
            }
            value = Encoding.UTF8.GetString(span);
        }
        else
        {
            // Split across segments (rare: a frame straddling two reads): copy it out first.
            var rented = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                var copy = rented.AsSpan(0, length);
                _reader.TryCopyTo(copy);
                if (!Utf8.IsValid(copy))
                {
                    return false;
                }
                value = Encoding.UTF8.GetString(copy);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
        _reader.Advance(length);
        return true;
    }
}
