using System.ComponentModel;

namespace Leasehold.Server.Events;

/// <summary>Settings under <c>Leasehold:Events</c>: the event stream's memory bounds (docs/events.md).</summary>
public sealed class EventOptions
{
    public const string Section = LeaseholdOptions.Section + ":Events";

    [Description("recent events kept in memory, so a stream that reconnects with Last-Event-ID gets what it missed")]
    public int History { get; set; } = 10_000;

    [Description("bytes the recent events kept in memory may take at most (about: attributes count twice); the oldest go first")]
    public long HistoryBytes { get; set; } = 64L << 20;

    [Description("events buffered per stream; a stream that lets its buffer fill is cut off (slow-consumer)")]
    public int Buffer { get; set; } = 4_096;

    [Description("event streams open at once; beyond it a new one gets 503 too-many-streams")]
    public int MaxStreams { get; set; } = 1_000;

    [Description("holders, waiters and resources a snapshot lists at most each (it is built on the writer); beyond, it says truncated")]
    public int SnapshotLimit { get; set; } = 10_000;

    [Description("seconds of silence after which a stream gets a keep-alive comment")]
    public double KeepAliveSeconds { get; set; } = 15;

    public void Validate()
    {
        if (History < 0 || HistoryBytes < 0 || Buffer < 1 || MaxStreams < 0 || SnapshotLimit < 1 || KeepAliveSeconds <= 0 || KeepAliveSeconds > 3600)
        {
            throw new InvalidDataException(
                $"{Section}: History and HistoryBytes are 0 or more, Buffer at least 1, MaxStreams 0 or more, SnapshotLimit at least 1, KeepAliveSeconds above 0 and at most 3600");
        }
    }
}
