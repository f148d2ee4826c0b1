namespace Leasehold.Core;

public sealed partial class LockEngine
{
    /// <summary>Mutable counters per principal, changed where leases, sessions and waiters come and go.</summary>
    private sealed class PrincipalTally
    {
        public int Leases;
        public int Sessions;
        public int Waiters;
    }

    private readonly Dictionary<string, PrincipalTally> _tallies = new(StringComparer.Ordinal);
    private readonly PrincipalTally _anonymous = new();

    /// <summary>
    /// What <paramref name="principal"/> holds right now (null: every anonymous caller together), in O(1):
    /// the counts are kept as things are granted, queued, opened and ended, for quotas to check before a
    /// request is applied.
    /// </summary>
    public PrincipalCounts CountsOf(string? principal)
    {
        var tally = principal is null ? _anonymous : _tallies.GetValueOrDefault(principal);
        return tally is null ? default : new PrincipalCounts(tally.Leases, tally.Sessions, tally.Waiters);
    }

    private PrincipalTally Tally(string? principal)
    {
        if (principal is null)
        {
            return _anonymous;
        }
        if (!_tallies.TryGetValue(principal, out var tally))
        {
            tally = new PrincipalTally();
            _tallies.Add(principal, tally);
        }
        return tally;
    }

    /// <summary>Applies <paramref name="change"/> and forgets a principal left with nothing, so the table stays as small as the active set.</summary>
    private void Untally(string? principal, Action<PrincipalTally> change)
    {
        var tally = Tally(principal);
        change(tally);
        if (principal is not null && tally is { Leases: 0, Sessions: 0, Waiters: 0 })
        {
            _tallies.Remove(principal);
        }
    }
}
