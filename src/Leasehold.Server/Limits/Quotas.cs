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
                // A pool request's paths are declared resources, already held in memory; its text is its pools and requirements.
                var chars = 0;
                foreach (var path in acquire.Paths)
                {
                    chars += path.Value.Length;
                }
                foreach (var group in acquire.Groups ?? [])
                {
                    chars += group.Pool.Value.Length + group.Require.Length;
                }
                if (chars > limits.MaxPathCharsPerLease)
                {
                    throw new QuotaExceededException(
                        $"the paths have {chars} characters together, more than one request may name ({limits.MaxPathCharsPerLease}, Leasehold:Limits:MaxPathCharsPerLease)",
                        Protocol.ErrorCodes.InvalidArgument);
                }
                NodesLeft(engine);
                var counts = engine.CountsOf(acquire.Principal);
                Check(engine.Leases.Count, limits.MaxLeases, "the server holds {0} leases, its limit (Leasehold:Limits:MaxLeases)");
                Check(counts.Leases, limits.MaxLeasesPerPrincipal, "{1}: {0} leases held, the limit per principal (Leasehold:Limits:MaxLeasesPerPrincipal)", acquire.Principal);
                // A request that may wait is counted as a waiter before it is known whether it will be granted at once.
                if (acquire.WaitMs > 0)
                {
                    Check(engine.QueueLength, limits.MaxWaiters, "{0} requests wait already, the server's limit (Leasehold:Limits:MaxWaiters)");
                    Check(counts.Waiters, limits.MaxWaitersPerPrincipal, "{1}: {0} requests waiting, the limit per principal (Leasehold:Limits:MaxWaitersPerPrincipal)", acquire.Principal);
                }
                break;
            case DeclareResource:
                NodesLeft(engine);
                break;
            case OpenSession open:
                Check(engine.Sessions.Count, limits.MaxSessions, "the server has {0} sessions open, its limit (Leasehold:Limits:MaxSessions)");
                Check(engine.CountsOf(open.Principal).Sessions, limits.MaxSessionsPerPrincipal,
                    "{1}: {0} sessions open, the limit per principal (Leasehold:Limits:MaxSessionsPerPrincipal)", open.Principal);
                break;
        }
    }

    private void NodesLeft(LockEngine engine) =>
        Check(engine.TreeNodes, limits.MaxPathNodes, "the server's path tree has {0} nodes, its limit (Leasehold:Limits:MaxPathNodes)");

    /// <summary>Refuses when <paramref name="count"/> has reached <paramref name="limit"/>. Runs for every command on the
    /// writer, so the message (<c>{0}</c> the limit, <c>{1}</c> who) is only built for a refusal.</summary>
    private static void Check(int count, int limit, string message, string? principal = null)
    {
        if (count >= limit)
        {
            throw new QuotaExceededException(string.Format(System.Globalization.CultureInfo.InvariantCulture, message, limit, Who(principal)));
        }
    }

    private static string Who(string? principal) => principal is null ? "anonymous callers" : "principal " + principal;
}
