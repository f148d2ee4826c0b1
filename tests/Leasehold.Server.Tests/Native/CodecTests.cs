using System.Buffers;
using System.Text;
using Leasehold.Protocol.Native;

namespace Leasehold.Server.Tests.Native;

/// <summary>The shared codec (Leasehold.Protocol.Native): every message round-trips, every malformed payload is refused.</summary>
public sealed class CodecTests
{
    private static readonly AcquireMessage Acquire = new()
    {
        Flags = AcquireFlags.Shared | AcquireFlags.LockParents,
        TtlMs = 60_000,
        WaitMs = 1_500,
        SessionId = 7,
        Limit = -1,
        Owner = "ci-42 ünïcödé",
        IdempotencyKey = "r7Yw2K9xQpL0aZ3fM8tNvB1c",
        Paths = ["/lab/rack-2", "/db/orders"],
        Groups = [new PoolGroupSpec("/lab", 2, Encoding.UTF8.GetBytes("\"os=android\"")), new PoolGroupSpec("/x", 0, null)],
    };

    private static readonly LeaseMessage Lease = new()
    {
        Id = 1,
        Fence = ulong.MaxValue,
        Token = "5be0d1e9a4a1c0f27d5a61c3f0b1a2e4",
        Owner = null,
        Principal = "alice",
        Flags = LeaseFlags.LockChildren,
        Paths = ["/a", "/b/c"],
        Limit = 3,
        TtlMs = 60_000,
        AcquiredAt = 1_700_000_000_000,
        ExpiresAt = -1,
        SessionId = 0,
        WaitedMs = 12,
        Resources = Encoding.UTF8.GetBytes("[]"),
    };

    [Fact]
    public void Every_message_round_trips_through_a_frame()
    {
        RoundTrip(new HelloMessage(1, "key-123", "test/1"), (a, b) => Assert.Equal(a, b));
        RoundTrip(new HelloMessage(1, null, null), (a, b) => Assert.Equal(a, b));
        RoundTrip(new WelcomeMessage(1, 1 << 20, 1024, "leasehold/1.0", "single", 120_000), (a, b) => Assert.Equal(a, b));
        RoundTrip(new PingMessage([1, 2, 3]), (a, b) => Assert.Equal(a.Data, b.Data));
        RoundTrip(new PingMessage([]), (a, b) => Assert.Equal(a.Data, b.Data));
        RoundTrip(new PongMessage([9]), (a, b) => Assert.Equal(a.Data, b.Data));
        RoundTrip(Acquire, AssertAcquire);
        RoundTrip(new AcquireMessage { Paths = ["/x"] }, AssertAcquire);
        RoundTrip(new CancelMessage(uint.MaxValue), (a, b) => Assert.Equal(a, b));
        RoundTrip(new ReleaseMessage(5, "tok"), (a, b) => Assert.Equal(a, b));
        RoundTrip(new RenewMessage(5, "tok", -1), (a, b) => Assert.Equal(a, b));
        RoundTrip(new GetLeaseMessage(ulong.MaxValue), (a, b) => Assert.Equal(a, b));
        RoundTrip(new SessionOpenMessage(-1, "w", SessionFlags.Bound), (a, b) => Assert.Equal(a, b));
        RoundTrip(new SessionKeepAliveMessage(3, "t"), (a, b) => Assert.Equal(a, b));
        RoundTrip(new SessionCloseMessage(3, ""), (a, b) => Assert.Equal(a, b));
        RoundTrip(new CallMessage("GET", "/v1/resources?prefix=/a", null), (a, b) => Assert.Equal(a, b));
        RoundTrip(new CallMessage("POST", "/v1/x", [1, 2]), (a, b) => Assert.Equal(a.Body, b.Body));
        RoundTrip(Lease, AssertLease);
        RoundTrip(new LeaseMessage(), AssertLease);
        RoundTrip(new OkMessage(), (a, b) => Assert.Equal(a, b));
        RoundTrip(new SessionMessage(1, null, "o", null, 30_000, 1_700_000_000_000, 2), (a, b) => Assert.Equal(a, b));
        RoundTrip(new ResultMessage(201, "application/json", [0x7B, 0x7D]), (a, b) =>
        {
            Assert.Equal((a.Status, a.ContentType), (b.Status, b.ContentType));
            Assert.Equal(a.Body, b.Body);
        });
        RoundTrip(new ResultMessage(204, null, null), (a, b) => Assert.Equal(a, b));
        RoundTrip(new LeaseEndedMessage(9, "expired"), (a, b) => Assert.Equal(a, b));
        RoundTrip(new SessionEndedMessage(9, "ended-by-admin"), (a, b) => Assert.Equal(a, b));
        RoundTrip(new ErrorMessage("locked", 409, "held by 1 lease(s)", -1, Encoding.UTF8.GetBytes("{\"holders\":[]}")), (a, b) => Assert.Equal(a.Extensions, b.Extensions));
    }

    [Fact]
    public void The_header_is_length_type_id_big_endian()
    {
        var output = new ArrayBufferWriter<byte>();
        NativeFrames.Write(output, 0x01020304, new CancelMessage(0x0A0B0C0D));
        Assert.Equal(new byte[] { 0, 0, 0, 9, 0x11, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D }, output.WrittenSpan.ToArray());
        output.Clear();
        NativeFrames.Write(output, 1, new HelloMessage(1, null, "test"));
        Assert.Equal(Convert.FromHexString("00000012010000000" + "14C48503101FFFF000474657374"), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_frame_split_anywhere_across_segments_reads_the_same()
    {
        var output = new ArrayBufferWriter<byte>();
        NativeFrames.Write(output, 77, Acquire);
        var bytes = output.WrittenSpan.ToArray();
        for (var cut = 1; cut < bytes.Length; cut++)
        {
            var buffer = Segments(bytes[..cut], bytes[cut..]);
            Assert.Equal(FrameStatus.Frame, FrameReader.TryRead(ref buffer, 1 << 20, out var frame, out _));
            Assert.True(buffer.IsEmpty);
            Assert.Equal((FrameType.Acquire, 77u), (frame.Type, frame.Id));
            Assert.True(NativeFrames.TryParse<AcquireMessage>(frame.Payload, out var parsed));
            AssertAcquire(Acquire, parsed);
        }
    }

    [Fact]
    public void Part_of_a_frame_needs_more_and_leaves_the_buffer_as_it_was()
    {
        var output = new ArrayBufferWriter<byte>();
        NativeFrames.Write(output, 1, new ReleaseMessage(1, "token"));
        NativeFrames.Write(output, 2, new OkMessage());
        var bytes = output.WrittenSpan.ToArray();
        var first = 9 + 8 + 2 + 5;
        for (var length = 0; length < first; length++)
        {
            var partial = new ReadOnlySequence<byte>(bytes, 0, length);
            Assert.Equal(FrameStatus.NeedMore, FrameReader.TryRead(ref partial, 1 << 20, out _, out _));
            Assert.Equal(length, partial.Length);
        }
        var all = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(FrameStatus.Frame, FrameReader.TryRead(ref all, 1 << 20, out var one, out _));
        Assert.Equal(FrameStatus.Frame, FrameReader.TryRead(ref all, 1 << 20, out var two, out _));
        Assert.Equal((1u, 2u, FrameType.Ok, 0L), (one.Id, two.Id, two.Type, two.Payload.Length));
        Assert.True(all.IsEmpty);
    }

    [Theory]
    [InlineData(0x00100001u, FrameStatus.TooLarge)]
    [InlineData(0xFFFFFFFFu, FrameStatus.TooLarge)]
    [InlineData(4u, FrameStatus.TooSmall)]
    [InlineData(0u, FrameStatus.TooSmall)]
    public void A_length_out_of_bounds_is_refused_before_the_frame_is_read(uint length, FrameStatus expected)
    {
        var buffer = new ReadOnlySequence<byte>([(byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length, 0x02]);
        Assert.Equal(expected, FrameReader.TryRead(ref buffer, 1 << 20, out _, out var read));
        Assert.Equal(length, read);
        Assert.Equal(5, buffer.Length);
    }

    [Fact]
    public void The_largest_allowed_frame_is_read()
    {
        var bytes = new byte[4 + 1000];
        bytes[2] = 0x03;
        bytes[3] = 0xE8;
        bytes[4] = 0x02;
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(FrameStatus.Frame, FrameReader.TryRead(ref buffer, 1000, out var frame, out _));
        Assert.Equal(995, frame.Payload.Length);
        buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(FrameStatus.TooLarge, FrameReader.TryRead(ref buffer, 999, out _, out _));
    }

    [Fact]
    public void Every_truncation_of_every_payload_is_refused()
    {
        AssertTruncationsRefused(new HelloMessage(1, "k", "n"));
        AssertTruncationsRefused(new WelcomeMessage(1, 1, 1, "s", "r", 1));
        AssertTruncationsRefused(Acquire);
        AssertTruncationsRefused(new CancelMessage(1));
        AssertTruncationsRefused(new ReleaseMessage(1, "t"));
        AssertTruncationsRefused(new RenewMessage(1, "t", 5));
        AssertTruncationsRefused(new GetLeaseMessage(1));
        AssertTruncationsRefused(new SessionOpenMessage(1, "o", SessionFlags.None));
        AssertTruncationsRefused(new SessionKeepAliveMessage(1, "t"));
        AssertTruncationsRefused(new SessionCloseMessage(1, "t"));
        AssertTruncationsRefused(new CallMessage("GET", "/", [1]));
        AssertTruncationsRefused(Lease);
        AssertTruncationsRefused(new SessionMessage(1, "t", "o", "p", 1, 1, 1));
        AssertTruncationsRefused(new ResultMessage(200, "t", [1]));
        AssertTruncationsRefused(new LeaseEndedMessage(1, "expired"));
        AssertTruncationsRefused(new SessionEndedMessage(1, "expired"));
        AssertTruncationsRefused(new ErrorMessage("c", 400, "d", -1, [1]));
    }

    [Fact]
    public void Trailing_bytes_are_refused()
    {
        AssertTrailingRefused(new ReleaseMessage(1, "t"));
        AssertTrailingRefused(Acquire);
        AssertTrailingRefused(Lease);
        AssertTrailingRefused(new OkMessage());
        AssertTrailingRefused(new HelloMessage(1, null, null));
        AssertTrailingRefused(new CallMessage("GET", "/", null));
        AssertTrailingRefused(new ErrorMessage("c", 400, "d", -1, null));
    }

    [Theory]
    [InlineData("C3")] // a lead byte with no continuation
    [InlineData("C0AF")] // an overlong '/'
    [InlineData("EDA080")] // an encoded surrogate (U+D800)
    [InlineData("F4908080")] // beyond U+10FFFF
    [InlineData("80")] // a lone continuation byte
    public void Ill_formed_utf8_is_refused(string hex)
    {
        var bad = Convert.FromHexString(hex);
        var payload = new byte[8 + 2 + bad.Length];
        payload[9] = (byte)bad.Length;
        bad.CopyTo(payload, 10);
        Assert.False(NativeFrames.TryParse<ReleaseMessage>(new ReadOnlySequence<byte>(payload), out _));
        // The same bytes split across two segments take the copying path: refused as well.
        Assert.False(NativeFrames.TryParse<ReleaseMessage>(Segments(payload[..11], payload[11..]), out _));
        // Well-formed text of the same shape is read, so the refusal is about the bytes.
        var good = (byte[])payload.Clone();
        good.AsSpan(10).Fill((byte)'a');
        Assert.True(NativeFrames.TryParse<ReleaseMessage>(new ReadOnlySequence<byte>(good), out _));
    }

    [Fact]
    public void Null_is_refused_where_the_field_is_not_nullable()
    {
        // RELEASE's token is str: 0xFFFF is not allowed.
        var payload = Convert.FromHexString("0000000000000001FFFF");
        Assert.False(NativeFrames.TryParse<ReleaseMessage>(new ReadOnlySequence<byte>(payload), out _));
    }

    [Fact]
    public void Huge_lengths_are_refused_without_allocating_their_claim()
    {
        // CALL: method "GET", target "/", body length 0xFFFFFFF0 with 2 bytes present.
        var call = Convert.FromHexString("0003474554" + "00012F" + "FFFFFFF0" + "0102");
        Assert.False(NativeFrames.TryParse<CallMessage>(new ReadOnlySequence<byte>(call), out _));
        // A str claiming 65,534 bytes with 3 present.
        var release = Convert.FromHexString("0000000000000001" + "FFFE" + "616263");
        Assert.False(NativeFrames.TryParse<ReleaseMessage>(new ReadOnlySequence<byte>(release), out _));
        // ACQUIRE with 65,535 paths and none present: refused before an array of that size is made.
        var output = new ArrayBufferWriter<byte>();
        NativeFrames.Write(output, 1, new AcquireMessage());
        var acquire = output.WrittenSpan[9..].ToArray();
        acquire[^4] = 0xFF;
        acquire[^3] = 0xFF;
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(NativeFrames.TryParse<AcquireMessage>(new ReadOnlySequence<byte>(acquire), out _));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 65_535 * 8, "the path array was allocated before the count was checked");
    }

    [Fact]
    public void Reserved_flag_bits_are_refused()
    {
        var output = new ArrayBufferWriter<byte>();
        NativeFrames.Write(output, 1, new AcquireMessage { Paths = ["/a"] });
        var acquire = output.WrittenSpan[9..].ToArray();
        Assert.True(NativeFrames.TryParse<AcquireMessage>(new ReadOnlySequence<byte>(acquire), out _));
        acquire[0] |= 0x10;
        Assert.False(NativeFrames.TryParse<AcquireMessage>(new ReadOnlySequence<byte>(acquire), out _));
        var open = Convert.FromHexString("0000000000007530" + "FFFF" + "02");
        Assert.False(NativeFrames.TryParse<SessionOpenMessage>(new ReadOnlySequence<byte>(open), out _));
    }

    [Fact]
    public void Hello_checks_the_magic_and_reads_no_further_for_another_version()
    {
        var wrongMagic = Convert.FromHexString("4C48503201FFFFFFFF");
        Assert.False(NativeFrames.TryParse<HelloMessage>(new ReadOnlySequence<byte>(wrongMagic), out _));
        var version2 = Convert.FromHexString("4C48503102" + "0102030405");
        Assert.True(NativeFrames.TryParse<HelloMessage>(new ReadOnlySequence<byte>(version2), out var hello));
        Assert.Equal(2, hello.Version);
    }

    [Fact]
    public void A_string_too_long_for_the_wire_is_a_writers_bug()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentException>(() => NativeFrames.Write(output, 1, new ReleaseMessage(1, new string('a', 65_535))));
        NativeFrames.Write(output, 1, new ReleaseMessage(1, new string('a', 65_534)));
    }

    private static void RoundTrip<T>(T message, Action<T, T> assertEqual) where T : struct, INativeMessage<T>
    {
        var output = new ArrayBufferWriter<byte>();
        NativeFrames.Write(output, 42, message);
        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.Equal(FrameStatus.Frame, FrameReader.TryRead(ref buffer, 1 << 20, out var frame, out _));
        Assert.True(buffer.IsEmpty);
        Assert.Equal((T.Type, 42u), (frame.Type, frame.Id));
        Assert.Equal(message.PayloadSize, frame.Payload.Length);
        Assert.True(NativeFrames.TryParse<T>(frame.Payload, out var parsed), $"{typeof(T).Name} did not parse back");
        assertEqual(message, parsed);
    }

    private static void AssertTruncationsRefused<T>(T message) where T : struct, INativeMessage<T>
    {
        var payload = PayloadOf(message);
        for (var length = 0; length < payload.Length; length++)
        {
            Assert.False(NativeFrames.TryParse<T>(new ReadOnlySequence<byte>(payload, 0, length), out _),
                $"{typeof(T).Name} cut to {length} of {payload.Length} bytes was read");
        }
        Assert.True(NativeFrames.TryParse<T>(new ReadOnlySequence<byte>(payload), out _));
    }

    private static void AssertTrailingRefused<T>(T message) where T : struct, INativeMessage<T>
    {
        var payload = PayloadOf(message);
        Assert.True(NativeFrames.TryParse<T>(new ReadOnlySequence<byte>(payload), out _));
        Assert.False(NativeFrames.TryParse<T>(new ReadOnlySequence<byte>([.. payload, 0]), out _), $"{typeof(T).Name} with a trailing byte was read");
    }

    private static byte[] PayloadOf<T>(T message) where T : struct, INativeMessage<T>
    {
        var output = new ArrayBufferWriter<byte>();
        NativeFrames.Write(output, 1, message);
        return output.WrittenSpan[NativeProtocol.HeaderSize..].ToArray();
    }

    private static void AssertAcquire(AcquireMessage expected, AcquireMessage actual)
    {
        Assert.Equal((expected.Flags, expected.TtlMs, expected.WaitMs, expected.SessionId, expected.Limit, expected.Owner, expected.IdempotencyKey),
            (actual.Flags, actual.TtlMs, actual.WaitMs, actual.SessionId, actual.Limit, actual.Owner, actual.IdempotencyKey));
        Assert.Equal(expected.Paths, actual.Paths);
        Assert.Equal(expected.Groups.Length, actual.Groups.Length);
        for (var i = 0; i < expected.Groups.Length; i++)
        {
            Assert.Equal((expected.Groups[i].Pool, expected.Groups[i].Count), (actual.Groups[i].Pool, actual.Groups[i].Count));
            Assert.Equal(expected.Groups[i].Require, actual.Groups[i].Require);
        }
    }

    private static void AssertLease(LeaseMessage expected, LeaseMessage actual)
    {
        Assert.Equal((expected.Id, expected.Fence, expected.Token, expected.Owner, expected.Principal, expected.Flags, expected.Limit),
            (actual.Id, actual.Fence, actual.Token, actual.Owner, actual.Principal, actual.Flags, actual.Limit));
        Assert.Equal((expected.TtlMs, expected.AcquiredAt, expected.ExpiresAt, expected.SessionId, expected.WaitedMs),
            (actual.TtlMs, actual.AcquiredAt, actual.ExpiresAt, actual.SessionId, actual.WaitedMs));
        Assert.Equal(expected.Paths, actual.Paths);
        Assert.Equal(expected.Resources, actual.Resources);
    }

    private static ReadOnlySequence<byte> Segments(byte[] first, byte[] second)
    {
        var head = new Segment(first, 0);
        var tail = head.Append(second);
        return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
