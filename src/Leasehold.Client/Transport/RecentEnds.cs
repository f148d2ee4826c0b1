using System.Collections.Concurrent;

namespace Leasehold.Client.Transport;

/// <summary>
/// The last <see cref="Capacity"/> ends pushed for leases nobody watched yet, by lease id: a lease can end between its
/// LEASE answer and the moment its handle starts watching it, and that end must still reach the handle. Only the most
/// recent ends matter (the window is one answer's handling), so the oldest is forgotten when a new one comes; ends of
/// leases that are never watched (a lease taken without a handle) therefore never crowd out a new one.
/// Added to by the connection's one reading thread; taken from by any thread.
/// </summary>
internal sealed class RecentEnds
{
    public const int Capacity = 1024;

    private readonly ConcurrentDictionary<long, string> _reasons = new();
    private readonly Queue<long> _order = new();

    public int Count => _reasons.Count;

    /// <summary>Keeps <paramref name="reason"/> for <paramref name="leaseId"/>, forgetting the oldest beyond <see cref="Capacity"/> (reading thread only).</summary>
    public void Add(long leaseId, string reason)
    {
        if (!_reasons.TryAdd(leaseId, reason))
        {
            return;
        }
        _order.Enqueue(leaseId);
        while (_reasons.Count > Capacity)
        {
            // An id taken since it was added is still queued: dequeuing it removes nothing.
            _reasons.TryRemove(_order.Dequeue(), out _);
        }
        if (_order.Count > 2 * Capacity)
        {
            // Mostly ids taken already (ends claimed soon after they came): dropped, the others kept in order.
            var kept = _order.Where(_reasons.ContainsKey).ToArray();
            _order.Clear();
            foreach (var id in kept)
            {
                _order.Enqueue(id);
            }
        }
    }

    /// <summary>Takes the end kept for <paramref name="leaseId"/>, if any.</summary>
    public bool TryTake(long leaseId, out string reason) => _reasons.TryRemove(leaseId, out reason!);
}
