namespace Leasehold.Core;

public sealed partial class LockEngine
{
    // Live leases by token hash, for a host that recognises a lease by its token alone (a retried acquire
    // whose token is derived from an idempotency key). Random tokens are unique; tokens derived from a name
    // (old protocols, pool reuse) may be shared, so each entry heads a chain of the leases with that hash,
    // linked through the leases themselves: adding and removing are O(1) whatever the chain's length.
    private readonly Dictionary<UInt128, Lease> _byToken = [];

    /// <summary>A live lease whose token hash is <paramref name="tokenHash"/> (the newest, if several share it), or null. O(1).</summary>
    public Lease? FindLeaseByToken(UInt128 tokenHash) => _byToken.GetValueOrDefault(tokenHash);

    /// <summary>Every live lease whose token hash is <paramref name="tokenHash"/>, newest first.</summary>
    public IEnumerable<Lease> LeasesWithToken(UInt128 tokenHash)
    {
        for (var lease = FindLeaseByToken(tokenHash); lease is not null; lease = lease.NextSameToken)
        {
            yield return lease;
        }
    }

    /// <summary>How many distinct token hashes the live leases have (the index's size, for invariant checks).</summary>
    public int DistinctLeaseTokens => _byToken.Count;

    private void IndexToken(Lease lease)
    {
        // Both links set here: a restored lease may come with links of the engine it was captured from.
        var head = _byToken.GetValueOrDefault(lease.Token);
        lease.PreviousSameToken = null;
        lease.NextSameToken = head;
        if (head is not null)
        {
            head.PreviousSameToken = lease;
        }
        _byToken[lease.Token] = lease;
    }

    private void UnindexToken(Lease lease)
    {
        var (previous, next) = (lease.PreviousSameToken, lease.NextSameToken);
        if (next is not null)
        {
            next.PreviousSameToken = previous;
        }
        if (previous is not null)
        {
            previous.NextSameToken = next;
        }
        else if (next is not null)
        {
            _byToken[lease.Token] = next;
        }
        else
        {
            _byToken.Remove(lease.Token);
        }
        lease.PreviousSameToken = null;
        lease.NextSameToken = null;
    }
}
