using Leasehold.Core;
using Leasehold.Server.Engine;
using Leasehold.Server.Pools;

namespace Leasehold.Server.Metrics;

/// <summary>
/// The gauges' values (leases, sessions, waiters, each configured pool's resources and held resources) are the
/// engine's, and only the writer reads the engine: a scrape asks the writer for a fresh count when the last one is a
/// second old or more, and the gauges report that count. Between scrapes nothing is counted and nothing is kept up to
/// date, so requests pay nothing for them.
/// </summary>
internal sealed class EngineGauges(LeaseholdMetrics metrics, EngineHost host, IReadOnlyList<PoolOptions> pools, TimeProvider time)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly ResourcePath[] _pools = [.. pools.Select(p => ResourcePath.TryParse(p.Path, out var path, out _) ? path : null).OfType<ResourcePath>().Distinct()];
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private long _takenAt = long.MinValue;

    /// <summary>Before a scrape: counts anew on the writer if the last count is a second old or more.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (Fresh())
        {
            return;
        }
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh())
            {
                return;
            }
            metrics.State = await host.CountAsync(_pools).WaitAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _takenAt, time.GetTimestamp());
        }
        catch (Exception ex) when (ex is NotLeaderException or ObjectDisposedException or IOException)
        {
            // A follower (no engine), a stopping server, a failed log: the gauges say nothing is held here.
            metrics.State = EngineCounts.Empty;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private bool Fresh()
    {
        var takenAt = Volatile.Read(ref _takenAt);
        return takenAt != long.MinValue && time.GetElapsedTime(takenAt) < MaxAge;
    }
}
