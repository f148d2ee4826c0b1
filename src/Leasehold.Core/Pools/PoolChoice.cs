namespace Leasehold.Core.Pools;

/// <summary>What the engine decided for a pool request. The numbers are persisted: never renumber.</summary>
public enum PoolDecision : byte
{
    /// <summary>Granted: <see cref="PoolChoice.Chosen"/> holds the chosen resources, one array per group.</summary>
    Granted = 0,

    /// <summary>Queued: <see cref="PoolChoice.Candidates"/> holds the candidates the waiter claims.</summary>
    Queued = 1,

    /// <summary>A declaration changed and the waiter claims new candidates, in <see cref="PoolChoice.Candidates"/>.</summary>
    Refitted = 2,

    /// <summary>A declaration changed and the waiter can never be served: it failed with no-match.</summary>
    Dropped = 3,

    /// <summary>The request renewed the owner's lease from the same pools instead of taking more.</summary>
    Reused = 4,
}

/// <summary>
/// One choice the engine made while applying a command: which resources a pool request got, or which it
/// waits for. Which resources match a requirement, and which of them are preferred, are rules that a
/// later version may change; so the host logs the choices with the command (<see cref="Command.Choices"/>)
/// and replay applies them instead of choosing again, which reproduces the live state exactly.
/// <para>Resources are named by position in the request's <em>resource list</em>: the declared resources
/// at or under each of its groups' pools (in group order, each pool once), in path order, each resource
/// once. That list depends only on declarations, which replay reproduces, so positions are stable; and
/// they keep a choice small (a queued request's candidates are a bit set) however long the paths are.</para>
/// </summary>
/// <param name="WaiterId">The queued request concerned; 0 for the request of the command itself.</param>
/// <param name="Decision">What happened to it.</param>
/// <param name="Pass">
/// For a grant from the queue: which pass over the queue, of those the command made, granted it (1 for the
/// first). A command may pass over the queue several times (a tick ending one lease after another), and a
/// waiter not served in one pass may be in a later one; replay grants it in the same pass. 0 otherwise.
/// </param>
/// <param name="Chosen">For <see cref="PoolDecision.Granted"/>: per group, the positions of its resources in the order chosen; otherwise empty.</param>
/// <param name="Candidates">
/// For <see cref="PoolDecision.Queued"/> and <see cref="PoolDecision.Refitted"/>: bit <c>i</c> (of byte
/// <c>i / 8</c>, least significant first) set when position <c>i</c> is a candidate; otherwise empty.
/// </param>
public sealed record PoolChoice(long WaiterId, PoolDecision Decision, int Pass, int[][] Chosen, byte[] Candidates);
