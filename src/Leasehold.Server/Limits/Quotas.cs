using Leasehold.Core;

namespace Leasehold.Server.Limits;

/// <summary>
/// Checks the holding quotas of <see cref="LimitsOptions"/> on the writer, before a command that could add a
/// lease, a waiter or a session is applied, so a refused request is neither applied nor logged. Reads the
/// engine's counts, which the writer alone changes, so the check and the command see the same state.
/// </summary>
public sealed class Quotas(LimitsOptions limits)
{
    /// <summary>Throws <see cref="QuotaExceededException"/> when <paramref name="command"/> would go over a quota.</summary>
    public void Admit(LockEngine engine, Command command)
    {
        switch (command)
        {
            case AcquireLease acquire:
                var chars = 0;
                foreach (var path in acquire.Paths)
                {
                    chars += path.Value.Length;
                }
                if (chars > limits.MaxPathCharsPerLease)
                {
                    throw new QuotaExceededException(
                        $"the paths have {chars} characters together, more than one request may name ({limits.MaxPathCharsPerLease}, Leasehold:Limits:MaxPathCharsPerLease)",
                        Protocol.ErrorCodes.InvalidArgument);
                }
                if (engine.TreeNodes >= limits.MaxPathNodes)
                {
                    throw new QuotaExceededException($"the server's path tree has {limits.MaxPathNodes} nodes, its limit (Leasehold:Limits:MaxPathNodes)");
                }
                if (engine.Leases.Count >= limits.MaxLeases)
                {
                    throw new QuotaExceededException($"the server holds {limits.MaxLeases} leases, its limit (Leasehold:Limits:MaxLeases)");
                }
                // A request that may wait is counted as a waiter before it is known whether it will be granted at once.
                if (acquire.WaitMs > 0 && engine.QueueLength >= limits.MaxWaiters)
                {
                    throw new QuotaExceededException($"{limits.MaxWaiters} requests wait already, the server's limit (Leasehold:Limits:MaxWaiters)");
                }
                break;
            case DeclareResource when engine.TreeNodes >= limits.MaxPathNodes:
                throw new QuotaExceededException($"the server's path tree has {limits.MaxPathNodes} nodes, its limit (Leasehold:Limits:MaxPathNodes)");
            case OpenSession:
                if (engine.Sessions.Count >= limits.MaxSessions)
                {
                    throw new QuotaExceededException($"the server has {limits.MaxSessions} sessions open, its limit (Leasehold:Limits:MaxSessions)");
                }
                break;
        }
    }
}
