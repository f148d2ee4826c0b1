using System.Threading.Channels;
using Leasehold.Core;
using Leasehold.Protocol;

namespace Leasehold.Server.Events;

/// <summary>
/// One consumer of the event stream (<see cref="EventHub.SubscribeAsync"/>). Read in this order:
/// <see cref="Reset"/> (when true, the events asked for are not all kept: drop what you knew),
/// <see cref="Snapshot"/> (when not null, the state as of its revision), <see cref="Backlog"/> (events from the
/// history), then <see cref="Reader"/> (live events, each once, in revision order, every one after the ones
/// before). When the hub ends the subscription (<see cref="CutOffReason"/>: <c>slow-consumer</c>,
/// <c>shutting-down</c>, <c>leader-changed</c>) the reader completes and <see cref="CutOff"/> is cancelled.
/// Dispose it to leave; it frees a place of <c>Leasehold:Events:MaxStreams</c>.
/// </summary>
public sealed class EventSubscription : IDisposable
{
    private readonly EventHub _hub;
    private readonly Channel<PublishedEvent> _channel;
    private readonly CancellationTokenSource _cutOff = new();
    private volatile string? _cutOffReason;
    private int _disposed;

    internal EventSubscription(EventHub hub, ResourcePath prefix, int buffer)
    {
        _hub = hub;
        Prefix = prefix;
        _channel = Channel.CreateBounded<PublishedEvent>(new BoundedChannelOptions(buffer)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });
    }

    public ResourcePath Prefix { get; }

    /// <summary>The revision the subscription starts after: live events all have larger ones.</summary>
    public long After { get; internal set; }

    /// <summary>True when the revision asked for could not be served from the history: a <see cref="Snapshot"/> follows.</summary>
    public bool Reset { get; internal set; }

    /// <summary>The state under the prefix as of <see cref="After"/>, when asked for or after a reset; otherwise null.</summary>
    public EventDto? Snapshot { get; internal set; }

    /// <summary>Kept events after the revision asked for (with Last-Event-ID), to be sent before the live ones.</summary>
    public IReadOnlyList<PublishedEvent> Backlog { get; internal set; } = [];

    /// <summary>Live events under the prefix, in revision order.</summary>
    public ChannelReader<PublishedEvent> Reader => _channel.Reader;

    /// <summary>Why the hub ended the subscription, or null while it runs.</summary>
    public string? CutOffReason => _cutOffReason;

    /// <summary>Cancelled when the hub ends the subscription.</summary>
    public CancellationToken CutOff => _cutOff.Token;

    /// <summary>Under the hub's lock: hands a live event over, false when the buffer is full.</summary>
    internal bool Offer(PublishedEvent e) => _channel.Writer.TryWrite(e);

    /// <summary>Under the hub's lock: ends the subscription. Never blocks nor runs the consumer's code here.</summary>
    internal void End(string reason)
    {
        if (_cutOffReason is not null)
        {
            return;
        }
        _cutOffReason = reason;
        _channel.Writer.TryComplete();
        // Off this thread: the publisher (the batch completion) must not run what waits on the token.
        _ = _cutOff.CancelAsync();
    }

    internal bool Disposed => Volatile.Read(ref _disposed) != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _hub.Leave(this);
        _channel.Writer.TryComplete();
    }
}

/// <summary>Refused: <c>Leasehold:Events:MaxStreams</c> streams are open already (503 <c>too-many-streams</c>).</summary>
public sealed class TooManyStreamsException(int max) : Exception($"{max} event streams are open already (Leasehold:Events:MaxStreams); retry later");
