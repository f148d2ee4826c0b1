using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Metrics;
using Leasehold.Server.Wire;

namespace Leasehold.Server.Engine;

/// <summary>
/// Read-only requests as typed work items. They run on the writer like any command (only the writer reads the
/// engine) and are answered in the same order, once everything before them is durable, so an answer never shows
/// state that is not kept. What they return is mapped on the writer into answer shapes (a lease's access check takes its immutable path array as it is).
/// </summary>
public sealed partial class EngineHost
{
    /// <summary>A lease as the API shows it (without its token), or null when it is not held.</summary>
    internal Task<LeaseDto?> GetLeaseAsync(long leaseId) => Submit(new GetLeaseItem(leaseId));

    /// <summary>What an access check on a lease needs: its paths and the principal that acquired it; null when it is not held.</summary>
    internal Task<(ResourcePath[] Paths, string? Principal)?> GetLeaseAccessAsync(long leaseId) => Submit(new LeaseAccessItem(leaseId));

    /// <summary>Whether the session exists, and the principal that opened it.</summary>
    internal Task<(bool Found, string? Principal)> GetSessionPrincipalAsync(long sessionId) => Submit(new SessionPrincipalItem(sessionId));

    /// <summary>One path's holders and queue, and up to <paramref name="maxAround"/> leases and requests above and below it that block it.</summary>
    internal Task<ResourceDto> DescribeResourceAsync(ResourcePath path, int maxAround) => Submit(new DescribeResourceItem(path, maxAround));

    /// <summary>Held paths at or under <paramref name="prefix"/>, at most <paramref name="limit"/>.</summary>
    internal Task<ResourceListDto> ListHeldAsync(ResourcePath prefix, int limit) => Submit(new ListHeldItem(prefix, limit));

    /// <summary>Whether fencing token <paramref name="fence"/> is held on <paramref name="path"/> right now, and which are.</summary>
    internal Task<FenceDto> CheckFenceAsync(ResourcePath path, long fence) => Submit(new CheckFenceItem(path, fence));

    /// <summary>
    /// Finished leases on paths under <paramref name="prefix"/>, newest first, at most <paramref name="limit"/> looked at;
    /// those whose paths <paramref name="readable"/> refuses are left out.
    /// </summary>
    internal Task<HistoryDto> HistoryAsync(ResourcePath prefix, string? owner, long since, long until, int limit, Func<IEnumerable<ResourcePath>, bool> readable)
        => Submit(new HistoryItem(prefix, owner, since, until, limit, readable));

    /// <summary>The share of time each declared resource under <paramref name="prefix"/> was held over the last <paramref name="windowSeconds"/>.</summary>
    internal Task<UtilizationDto> UtilizationAsync(ResourcePath prefix, double windowSeconds) => Submit(new UtilizationItem(prefix, windowSeconds));

    /// <summary>The server's counters (<c>/v1/stats</c>).</summary>
    internal Task<StatsDto> StatsAsync() => Submit(new StatsItem(this));

    /// <summary>What the metrics' gauges report: leases, sessions, waiters, and each of <paramref name="pools"/>' declared and held resources.</summary>
    internal Task<EngineCounts> CountAsync(ResourcePath[] pools) => Submit(new CountItem(pools));

    private sealed class GetLeaseItem(long leaseId) : ValueItem<LeaseDto?>
    {
        protected override LeaseDto? Compute(Writer writer)
            => writer.Engine.GetLease(leaseId) is { } lease ? Dtos.ToDto(lease, writer.Engine) : null;
    }

    private sealed class LeaseAccessItem(long leaseId) : ValueItem<(ResourcePath[] Paths, string? Principal)?>
    {
        protected override (ResourcePath[] Paths, string? Principal)? Compute(Writer writer)
            => writer.Engine.GetLease(leaseId) is { } lease ? (lease.Paths, lease.Principal) : null;
    }

    private sealed class SessionPrincipalItem(long sessionId) : ValueItem<(bool Found, string? Principal)>
    {
        protected override (bool Found, string? Principal) Compute(Writer writer)
            => writer.Engine.GetSession(sessionId) is { } session ? (true, session.Principal) : (false, null);
    }

    private sealed class DescribeResourceItem(ResourcePath path, int maxAround) : ValueItem<ResourceDto>
    {
        protected override ResourceDto Compute(Writer writer)
        {
            var engine = writer.Engine;
            var around = engine.GetSurroundings(path, maxAround);
            // The drain that keeps even a claim on this path alone (not its children) from being granted.
            var drained = engine.DrainOver(path, lockChildren: false);
            return Dtos.ToDto(engine.GetResource(path), around, drained, engine, writer.Now);
        }
    }

    private sealed class ListHeldItem(ResourcePath prefix, int limit) : ValueItem<ResourceListDto>
    {
        protected override ResourceListDto Compute(Writer writer)
        {
            var engine = writer.Engine;
            var now = writer.Now;
            var held = engine.ListHeld(prefix, limit + 1);
            return new ResourceListDto
            {
                Prefix = prefix.Value,
                Resources = [.. held.Take(limit).Select(r => Dtos.ToDto(r, engine, now))],
                Truncated = held.Count > limit,
            };
        }
    }

    private sealed class CheckFenceItem(ResourcePath path, long fence) : ValueItem<FenceDto>
    {
        protected override FenceDto Compute(Writer writer)
        {
            var state = writer.Engine.CheckFence(path, fence);
            return new FenceDto
            {
                Path = path.Value,
                Fence = fence,
                Current = state.Current,
                Fences = [.. state.Holders.Select(h => h.Fence)],
            };
        }
    }

    private sealed class HistoryItem(ResourcePath prefix, string? owner, long since, long until, int limit, Func<IEnumerable<ResourcePath>, bool> readable)
        : ValueItem<HistoryDto>
    {
        protected override HistoryDto Compute(Writer writer) => new()
        {
            Entries = [.. writer.Engine.QueryHistory(prefix, owner, since, until, limit).Where(e => readable(e.Paths)).Select(Dtos.ToDto)],
        };
    }

    private sealed class UtilizationItem(ResourcePath prefix, double windowSeconds) : ValueItem<UtilizationDto>
    {
        protected override UtilizationDto Compute(Writer writer)
        {
            var to = writer.Now;
            var from = to - (long)(windowSeconds * 1000);
            return Dtos.ToDto(prefix, from, to, writer.Engine.Utilization(prefix, from, to));
        }
    }

    private sealed class StatsItem(EngineHost host) : ValueItem<StatsDto>
    {
        protected override StatsDto Compute(Writer writer) => new()
        {
            Leases = writer.Engine.Leases.Count,
            Sessions = writer.Engine.Sessions.Count,
            Waiters = writer.Engine.QueueLength,
            LastFence = writer.Engine.LastFence,
            LoggedCommands = host.LoggedCommands,
            Syncs = host.Syncs,
            Durability = host.Policy.ToString().ToLowerInvariant(),
            AllocatedBytes = GC.GetTotalAllocatedBytes(),
        };
    }

    private sealed class CountItem(ResourcePath[] pools) : ValueItem<EngineCounts>
    {
        protected override EngineCounts Compute(Writer writer)
        {
            var engine = writer.Engine;
            var counts = new PoolCount[pools.Length];
            for (var i = 0; i < pools.Length; i++)
            {
                var declared = engine.ListDeclared(pools[i]);
                var held = 0;
                foreach (var resource in declared)
                {
                    if (engine.GetResource(resource.Path).Holders.Count > 0)
                    {
                        held++;
                    }
                }
                counts[i] = new PoolCount(pools[i].Value, declared.Count, held);
            }
            return new EngineCounts(engine.Leases.Count, engine.Sessions.Count, engine.QueueLength, counts);
        }
    }
}
