using System.CommandLine;
using Leasehold.Client;

namespace Leasehold.Cli;

/// <summary>
/// <c>--kill-grace</c>, and when <c>run</c> gives a lease up (docs/cli.md, "When the lease is lost").
/// With L the lease's lifetime (<c>--ttl</c>, or <c>--session-ttl</c>), G the grace (at most L/4) and
/// M = min(L/10, 2 s) a margin: once no renewal has got through for L − G − M, the command's tree gets
/// SIGTERM, and G later SIGKILL; so it is gone about M before the earliest moment the server could end
/// the lease and grant it to someone else. Locally nobody else can take the lock while <c>run</c> holds
/// it: SIGTERM when <c>--ttl</c> runs out, SIGKILL G later, the lock freed once nothing of the tree runs.
/// </summary>
internal static class StopTimeline
{
    private static readonly TimeSpan MaxMargin = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxGrace = TimeSpan.FromHours(1);

    public static Option<TimeSpan?> Option() => Durations.Option("--kill-grace",
        "When the lease is lost (or the --local --ttl runs out): how long the command's processes get between SIGTERM and SIGKILL "
        + "[default: 5 s; with a server at most a quarter of the lease's lifetime]");

    /// <summary>M: what is left between the SIGKILL and the earliest end of the lease on the server.</summary>
    public static TimeSpan Margin(TimeSpan lifetime) => lifetime / 10 < MaxMargin ? lifetime / 10 : MaxMargin;

    /// <summary>G for a lease living <paramref name="lifetime"/>: the one given, which may not exceed a quarter of it; by default 5 s or that quarter.</summary>
    public static TimeSpan LeaseGrace(TimeSpan? given, TimeSpan lifetime)
    {
        var most = lifetime / 4;
        if (given is not { } grace)
        {
            return ChildRunner.DefaultGrace < most ? ChildRunner.DefaultGrace : most;
        }
        Check(grace);
        return grace <= most
            ? grace
            : throw new UsageException($"--kill-grace: at most a quarter of the lease's lifetime, {Durations.Format(most)} here");
    }

    /// <summary>G for <c>--local</c>: the one given, or 5 s.</summary>
    public static TimeSpan LocalGrace(TimeSpan? given)
    {
        if (given is { } grace)
        {
            Check(grace);
        }
        return given ?? ChildRunner.DefaultGrace;
    }

    /// <summary>Stop when the server says the lease is gone, or G + M before it could expire for want of a renewal.</summary>
    public static StopRule ForLease(LeaseHandle lease, TimeSpan lifetime, TimeSpan grace)
    {
        var lead = grace + Margin(lifetime);
        return new StopRule(lease.EarlyLostToken(lead), () => lease.LostToken.IsCancellationRequested
                ? $"lease {lease.Id} lost (released or revoked elsewhere, or expired)"
                : $"lease {lease.Id} lost: no renewal got through for {Durations.Format(lifetime - lead)} (the server unreachable?), "
                  + $"so it is given up {Durations.Format(lead)} before the server could let it expire",
            grace);
    }

    /// <summary>Stop when the local <c>--ttl</c> has run out.</summary>
    public static StopRule ForLocal(CancellationToken deadline, TimeSpan? ttl, TimeSpan grace)
        => new(deadline, () => $"--ttl of {Durations.Format(ttl ?? TimeSpan.Zero)} ran out", grace);

    private static void Check(TimeSpan grace)
    {
        if (grace < TimeSpan.Zero || grace > MaxGrace)
        {
            throw new UsageException("--kill-grace: between 0 and 1 h");
        }
    }
}
