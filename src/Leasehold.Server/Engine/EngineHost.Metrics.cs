using Leasehold.Core;
using Leasehold.Server.Metrics;

namespace Leasehold.Server.Engine;

/// <summary>
/// What the writer tells the metrics: grants (at once or from the queue, with the wait), and endings of leases
/// (with the hold time) and sessions, by reason. All on the writer thread, from what the host already learns of
/// each command's outcome; nothing is allocated per command once the table of grant times has grown.
/// </summary>
public sealed partial class EngineHost
{
    private readonly LeaseholdMetrics? _metrics;

    // Touched only by the writer loop: the grant time of every live lease, for the hold-time histogram (an engine's
    // Ended names a lease, not its grant). Kept only while metrics are recorded.
    private readonly Dictionary<long, long> _grantedAt = [];

    /// <summary>Where the writer and the log record metrics; null: nowhere (tests that build a host alone).</summary>
    public LeaseholdMetrics? Metrics
    {
        get => _metrics;
        init
        {
            _metrics = value;
            if (_log is StoreLog store)
            {
                store.Metrics = value;
            }
            NoteLeases(_engine);
        }
    }

    /// <summary>On the writer (or before it starts): a new engine's leases, held since their grants.</summary>
    private void NoteLeases(LockEngine? engine)
    {
        _grantedAt.Clear();
        if (_metrics is null || engine is null)
        {
            return;
        }
        foreach (var lease in engine.Leases)
        {
            _grantedAt[lease.Id] = lease.AcquiredAt;
        }
    }

    /// <summary>On the writer: <paramref name="lease"/> was just granted; <paramref name="waitedMs"/> is null for a grant at once.</summary>
    internal void NoteGranted(Lease lease, long? waitedMs)
    {
        if (_metrics is null)
        {
            return;
        }
        _grantedAt[lease.Id] = lease.AcquiredAt;
        _metrics.Granted(waitedMs);
    }

    /// <summary>On the writer: a lease or session ended.</summary>
    private void NoteEnded(in Ended ended)
    {
        if (_metrics is null)
        {
            return;
        }
        long? heldMs = ended.Kind == EndedKind.Lease && _grantedAt.Remove(ended.Id, out var grantedAt)
            ? Math.Max(0, _writer.Now - grantedAt)
            : null;
        _metrics.Ended(ended.Kind, ended.Reason, heldMs);
    }
}
