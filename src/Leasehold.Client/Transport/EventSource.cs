namespace Leasehold.Client.Transport;

/// <summary>
/// One subscription to the event stream on one server (SSE over HTTP, WATCH over the native protocol): the revision it
/// starts after, then each message's JSON in order. It ends (null) when the server ends it or the connection is lost.
/// </summary>
internal abstract class EventSource : IAsyncDisposable
{
    /// <summary>The revision the subscription starts after: every event that follows has a larger one.</summary>
    public abstract long Start { get; }

    /// <summary>The next message's JSON (one object); null once the stream has ended.</summary>
    public abstract ValueTask<byte[]?> NextAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}
