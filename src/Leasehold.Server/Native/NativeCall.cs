using Leasehold.Protocol;
using Leasehold.Server.Http;

namespace Leasehold.Server.Native;

/// <summary>
/// Marks a request that a native CALL runs through the HTTP pipeline (a feature of its context), so that the
/// pipeline can refuse what a CALL cannot carry: a route that streams (<see cref="StreamingRoute"/>).
/// </summary>
internal sealed class NativeCall
{
    public static readonly NativeCall Instance = new();

    private NativeCall()
    {
    }

    private static readonly object GaveUpKey = new();

    /// <summary>
    /// The route gave the request up because its caller went away (a waiting acquire left its queue, a grant that
    /// could not be delivered was released, a forward to the leader was cut): a cancelled CALL is answered ERROR
    /// <c>cancelled</c> only then; any other answer of a cancelled CALL took effect, and is sent as it is.
    /// </summary>
    public static void GaveUp(HttpContext context) => context.Items[GaveUpKey] = true;

    /// <summary>Whether <see cref="GaveUp"/> was said of this request.</summary>
    public static bool WasGivenUp(HttpContext context) => context.Items.ContainsKey(GaveUpKey);

    /// <summary>After routing, before forwarding to a leader: a CALL of a streaming route is answered 400 <c>invalid-argument</c>.</summary>
    public static void UseNativeCallGuard(WebApplication app) => app.Use((context, next) =>
        context.Features.Get<NativeCall>() is not null && context.GetEndpoint()?.Metadata.GetMetadata<StreamingRoute>() is not null
            ? Problems.WriteAsync(context, ErrorCodes.InvalidArgument, $"{context.Request.Path} streams, which a CALL cannot carry (its answer is one frame): use WATCH")
            : next(context));
}

/// <summary>A CALL's response body: kept up to <c>limit</c> bytes; beyond it the rest is dropped and <see cref="Overflowed"/> set, so a large answer cannot grow memory without bound.</summary>
internal sealed class CappedBody(int limit) : Stream
{
    private readonly MemoryStream _kept = new();

    public bool Overflowed { get; private set; }

    public byte[]? ToArray() => _kept.Length == 0 ? null : _kept.ToArray();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _kept.Length;

    public override long Position
    {
        get => _kept.Length;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Overflowed || _kept.Length + buffer.Length > limit)
        {
            Overflowed = true;
            return;
        }
        _kept.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _kept.Dispose();
        }
        base.Dispose(disposing);
    }
}
