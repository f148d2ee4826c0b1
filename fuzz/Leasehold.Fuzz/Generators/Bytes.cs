using System.Buffers.Binary;
using CsCheck;

namespace Leasehold.Fuzz.Generators;

/// <summary>One edit of a byte array; positions are taken modulo the array's length when applied.</summary>
public sealed record Edit(EditKind Kind, int At, int Length, int Value)
{
    public override string ToString() => $"{Kind}@{At}/{Length}={Value}";
}

public enum EditKind
{
    /// <summary>Flip bit <c>Value % 8</c> of the byte at <c>At</c>.</summary>
    FlipBit,

    /// <summary>Set the byte at <c>At</c> to <c>Value</c>.</summary>
    SetByte,

    /// <summary>Cut the array at <c>At</c>.</summary>
    Truncate,

    /// <summary>Remove <c>Length</c> bytes at <c>At</c>.</summary>
    Delete,

    /// <summary>Copy <c>Length</c> bytes from <c>Value</c> and insert them at <c>At</c> (a splice of the array with itself).</summary>
    Splice,

    /// <summary>Insert <c>Length</c> bytes of value <c>Value</c> at <c>At</c>.</summary>
    Insert,

    /// <summary>Write the 32-bit little-endian <c>Value</c> at <c>At</c>: a length or count field set to an edge value.</summary>
    SetInt32,
}

/// <summary>Byte-level damage: bit flips, truncations, splices, inserted runs, and edited length fields.</summary>
public static class Bytes
{
    /// <summary>Values a length or count field is most likely to be mishandled at.</summary>
    private static readonly int[] EdgeInts = [0, 1, -1, 2, 7, 8, 15, 16, 17, 255, 256, 4096, 4097, 65535, 1 << 20, (1 << 20) + 1, int.MaxValue, int.MinValue, int.MaxValue - 15];

    public static readonly Gen<Edit> OneEdit = Gen.Select(
        Gen.Enum<EditKind>(), Gen.Int[0, int.MaxValue], Gen.Int[1, 64],
        Gen.Frequency((1, Gen.Int[0, 255]), (1, Gen.OneOf(EdgeInts)), (1, Gen.Int)),
        (kind, at, length, value) => new Edit(kind, at, length, value));

    public static readonly Gen<Edit[]> Edits = OneEdit.Array[1, 5];

    /// <summary>A function that applies a few random edits.</summary>
    public static readonly Gen<Func<byte[], byte[]>> Damage = Edits.Select(edits => (Func<byte[], byte[]>)(data => Apply(data, edits)));

    public static byte[] Apply(byte[] data, IEnumerable<Edit> edits)
    {
        var bytes = new List<byte>(data);
        foreach (var edit in edits)
        {
            Apply(bytes, edit);
        }
        return [.. bytes];
    }

    private static void Apply(List<byte> bytes, Edit edit)
    {
        var n = bytes.Count;
        var at = n == 0 ? 0 : edit.At % n;
        switch (edit.Kind)
        {
            case EditKind.FlipBit when n > 0:
                bytes[at] ^= (byte)(1 << (edit.Value & 7));
                break;
            case EditKind.SetByte when n > 0:
                bytes[at] = (byte)edit.Value;
                break;
            case EditKind.Truncate:
                bytes.RemoveRange(at, n - at);
                break;
            case EditKind.Delete when n > 0:
                bytes.RemoveRange(at, Math.Min(edit.Length, n - at));
                break;
            case EditKind.Splice when n > 0:
                var from = (int)((uint)edit.Value % (uint)n);
                bytes.InsertRange(at, bytes.GetRange(from, Math.Min(edit.Length, n - from)));
                break;
            case EditKind.Insert:
                bytes.InsertRange(at, Enumerable.Repeat((byte)edit.Value, edit.Length));
                break;
            case EditKind.SetInt32 when n >= 4:
                Span<byte> word = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(word, edit.Value);
                at = Math.Min(at, n - 4);
                for (var i = 0; i < 4; i++)
                {
                    bytes[at + i] = word[i];
                }
                break;
        }
    }

    public static string Hex(byte[] data, int max = 256) =>
        Convert.ToHexString(data.AsSpan(0, Math.Min(max, data.Length))) + (data.Length > max ? $"... ({data.Length} bytes)" : $" ({data.Length} bytes)");
}
