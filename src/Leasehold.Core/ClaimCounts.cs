using System.Runtime.CompilerServices;

namespace Leasehold.Core;

/// <summary>
/// Counters one tree node keeps for one layer of claims (held leases or queued waiters). They make
/// every conflict check cost O(depth): the checker reads counters on the path's own node and its
/// ancestors, never a list of locks. Index = kind * 2 + mode.
/// </summary>
[InlineArray(8)]
internal struct ClaimCounts
{
    private int _element;

    /// <summary>Claims on exactly this node.</summary>
    public const int Exact = 0;

    /// <summary>Claims on exactly this node that also claim its descendants (lockChildren).</summary>
    public const int ExactLockChildren = 1;

    /// <summary>Claims strictly below this node.</summary>
    public const int Below = 2;

    /// <summary>Claims strictly below this node that also claim their ancestors (lockParents).</summary>
    public const int BelowLockParents = 3;

    public static int Index(int kind, LockMode mode) => (kind * 2) + (int)mode;

    public readonly bool IsEmpty
    {
        get
        {
            foreach (var v in this)
            {
                if (v != 0)
                {
                    return false;
                }
            }
            return true;
        }
    }

    /// <summary>
    /// True when a claim of kind <paramref name="kind"/> counted here conflicts in mode with a claim
    /// of mode <paramref name="mode"/>: exclusive meets anything, shared meets only exclusive.
    /// </summary>
    public readonly bool Conflicts(int kind, LockMode mode)
        => this[Index(kind, LockMode.Exclusive)] > 0
           || (mode == LockMode.Exclusive && this[Index(kind, LockMode.Shared)] > 0);
}

/// <summary>Which set of claims a counter layer describes.</summary>
internal enum Layer
{
    Held = 0,
    Queued = 1,
}
