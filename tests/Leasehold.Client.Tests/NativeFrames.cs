using System.Buffers.Binary;
using System.Text;

namespace Leasehold.Client.Tests;

/// <summary>
/// Just enough of the native protocol's framing (docs/protocol.md), written out by hand, for fake peers that are not
/// our server: read a frame's head and skip its payload, write a WELCOME or an ERROR.
/// </summary>
internal static class NativeFrames
{
    public const byte Hello = 0x01;
    private const byte WelcomeType = 0x81;
    private const byte ErrorType = 0xFF;

    /// <summary>Reads one frame (at most 64 KiB) and returns its type and id.</summary>
    public static async Task<(byte Type, uint Id)> SkipAsync(Stream stream, CancellationToken cancellationToken)
    {
        var (type, id, _) = await ReadAsync(stream, cancellationToken);
        return (type, id);
    }

    /// <summary>Reads one frame (at most 64 KiB): its type, id and payload.</summary>
    public static async Task<(byte Type, uint Id, byte[] Payload)> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new byte[9];
        await stream.ReadExactlyAsync(head, cancellationToken);
        var length = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (length is < 5 or > 64 * 1024)
        {
            throw new IOException($"a frame of {length} bytes");
        }
        var payload = new byte[length - 5];
        await stream.ReadExactlyAsync(payload, cancellationToken);
        return (head[4], BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(5)), payload);
    }

    /// <summary>PONG to PING <paramref name="id"/>: the same bytes back.</summary>
    public static byte[] Pong(uint id, byte[] payload) => Frame(0x82, id, [.. payload]);

    /// <summary>The push LEASE_ENDED (id 0): <c>leaseId:u64 | reason:str</c>.</summary>
    public static byte[] LeaseEnded(ulong leaseId, string reason)
    {
        var body = new List<byte>();
        AddU32(body, (uint)(leaseId >> 32));
        AddU32(body, (uint)leaseId);
        AddString(body, reason);
        return Frame(0xE0, 0, body);
    }

    public static byte[] Welcome(string role)
    {
        var body = new List<byte> { 1 };
        AddU32(body, 1024 * 1024);
        AddU32(body, 1024);
        AddString(body, "leasehold/fake");
        AddString(body, role);
        AddU32(body, 120_000); // idleMs
        return Frame(WelcomeType, 0, body);
    }

    public static byte[] Error(uint id, string code, int status, string detail, long retryAfterMs, string? extensionsJson = null)
    {
        var body = new List<byte>();
        AddString(body, code);
        body.Add((byte)(status >> 8));
        body.Add((byte)status);
        AddString(body, detail);
        AddU32(body, (uint)(retryAfterMs >> 32));
        AddU32(body, (uint)retryAfterMs);
        if (extensionsJson is null)
        {
            AddU32(body, uint.MaxValue); // no extensions
        }
        else
        {
            var json = Encoding.UTF8.GetBytes(extensionsJson);
            AddU32(body, (uint)json.Length);
            body.AddRange(json);
        }
        return Frame(ErrorType, id, body);
    }

    private static byte[] Frame(byte type, uint id, List<byte> payload)
    {
        var frame = new byte[9 + payload.Count];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(5 + payload.Count));
        frame[4] = type;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), id);
        payload.CopyTo(frame, 9);
        return frame;
    }

    private static void AddU32(List<byte> body, uint value)
    {
        body.Add((byte)(value >> 24));
        body.Add((byte)(value >> 16));
        body.Add((byte)(value >> 8));
        body.Add((byte)value);
    }

    private static void AddString(List<byte> body, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        body.Add((byte)(bytes.Length >> 8));
        body.Add((byte)bytes.Length);
        body.AddRange(bytes);
    }
}
