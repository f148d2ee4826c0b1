namespace Leasehold.Core;

/// <summary>What one principal has in the engine right now: leases held, sessions open, requests queued.</summary>
public readonly record struct PrincipalCounts(int Leases, int Sessions, int Waiters)
{
    public bool IsEmpty => Leases == 0 && Sessions == 0 && Waiters == 0;
}
