using System.Globalization;
using System.Text.Json;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Protocol;

namespace Leasehold.Server.Wire;

/// <summary>Engine state to wire shapes. Runs on the writer, the only place engine objects may be read.</summary>
internal static class Dtos
{
    public static string Mode(LockMode mode) => mode == LockMode.Shared ? "shared" : "exclusive";

    public static string Token(UInt128 token) => token.ToString("x32", CultureInfo.InvariantCulture);

    public static DateTimeOffset Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs);

    public static double Seconds(long ms) => ms / 1000.0;

    public static string[] Paths(ResourcePath[] paths)
    {
        var result = new string[paths.Length];
        for (var i = 0; i < paths.Length; i++)
        {
            result[i] = paths[i].Value;
        }
        return result;
    }

    /// <param name="lease">The lease.</param>
    /// <param name="engine">The engine, for the chosen resources' attributes.</param>
    /// <param name="token">The lease's token, to show its new holder; null everywhere else (the engine only has its hash).</param>
    public static LeaseDto ToDto(Lease lease, LockEngine engine, UInt128? token = null) => new()
    {
        Id = lease.Id,
        Token = token is { } clear ? Token(clear) : null,
        Owner = lease.Owner,
        Principal = lease.Principal,
        Mode = Mode(lease.Mode),
        Paths = Paths(lease.Paths),
        Limit = lease.Mode == LockMode.Exclusive ? lease.Limit : null,
        Ttl = lease.TtlMs > 0 ? Seconds(lease.TtlMs) : null,
        Fence = lease.Fence,
        AcquiredAt = Time(lease.AcquiredAt),
        ExpiresAt = lease.ExpiresAt == long.MaxValue ? null : Time(lease.ExpiresAt),
        Session = lease.SessionId == 0 ? null : lease.SessionId,
        LockParents = lease.LockParents,
        LockChildren = lease.LockChildren,
        Waited = Seconds(lease.WaitedMs),
        Resources = lease.Groups is { } groups ? Chosen(groups, engine) : null,
    };

    public static ChosenResourceDto[] Chosen(GroupClaim[] groups, LockEngine engine)
    {
        var chosen = new List<ChosenResourceDto>();
        for (var i = 0; i < groups.Length; i++)
        {
            foreach (var path in groups[i].Chosen)
            {
                chosen.Add(new ChosenResourceDto { Path = path.Value, Group = i, Attributes = engine.GetDeclared(path)?.Attributes });
            }
        }
        return [.. chosen];
    }

    public static WaiterDto ToDto(Waiter waiter, long now) => new()
    {
        Id = waiter.Id,
        Owner = waiter.Owner,
        Mode = Mode(waiter.Mode),
        Paths = Paths(waiter.Paths),
        Since = Time(waiter.EnqueuedAt),
        Waiting = Seconds(now - waiter.EnqueuedAt),
    };

    public static ResourceDto ToDto(ResourceState state, LockEngine engine, long now) => new()
    {
        Path = state.Path.Value,
        Attributes = engine.GetDeclared(state.Path)?.Attributes,
        Holders = [.. state.Holders.Select(h => ToDto(h, engine))],
        Queue = [.. state.Queue.Select(w => ToDto(w, now))],
    };

    /// <summary>One path's holders and queue, with what blocks it from above and below (<paramref name="around"/>) and the drain over it.</summary>
    public static ResourceDto ToDto(ResourceState state, Surroundings around, Drain? drained, LockEngine engine, long now) => ToDto(state, engine, now) with
    {
        Drained = drained is null ? null : ToDto(drained),
        BlockedBy = [.. around.Holders.Select(h => ToDto(h, engine))],
        QueuedAhead = [.. around.Queue.Select(q => ToDto(q, now))],
    };

    public static DrainDto ToDto(Drain drain) => new() { Path = drain.Path.Value, Actor = drain.Actor, Since = Time(drain.Since) };

    public static DeclaredResourceDto ToDto(DeclaredResource resource) => new() { Path = resource.Path.Value, Attributes = resource.Attributes };

    /// <summary>
    /// Declared resources as py-lockable's HTTP provider reads them: a JSON array of resource objects, each with an id.
    /// Each resource's attributes are served as they were declared; one without an id (or with a null one, which
    /// py-lockable reads as missing) gets its last path segment.
    /// </summary>
    public static string ResourceList(IReadOnlyList<DeclaredResource> resources) => "[" + string.Join(",", resources.Select(WithId)) + "]";

    private static string WithId(DeclaredResource resource)
    {
        if (resource.Attributes.TryGetProperty("id", out var given) && given.ValueKind != JsonValueKind.Null)
        {
            return resource.AttributesJson;
        }
        var id = JsonSerializer.Serialize(resource.Path.Segments.Length == 0 ? "/" : resource.Path.Segments[^1], ProtocolJsonContext.Default.String);
        var rest = resource.Attributes.EnumerateObject().Where(p => p.Name != "id").Select(p => JsonSerializer.Serialize(p.Name, ProtocolJsonContext.Default.String) + ":" + p.Value.GetRawText());
        return "{\"id\":" + string.Join(",", rest.Prepend(id)) + "}";
    }

    public static HistoryEntryDto ToDto(HistoryEntry entry) => new()
    {
        Lease = entry.LeaseId,
        Fence = entry.Fence,
        Owner = entry.Owner,
        Paths = Paths(entry.Paths),
        Requirements = entry.Requirements,
        AcquiredAt = Time(entry.AcquiredAt),
        EndedAt = Time(entry.EndedAt),
        Queued = Seconds(entry.QueuedMs),
        Held = Seconds(entry.EndedAt - entry.AcquiredAt),
        Reason = Reason(entry.Reason),
        Principal = entry.Principal,
        EndedBy = entry.EndedBy,
    };

    /// <summary>How long each declared resource under <paramref name="prefix"/> was held from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static UtilizationDto ToDto(ResourcePath prefix, long from, long to, IReadOnlyList<(DeclaredResource Resource, long HeldMs)> held) => new()
    {
        Prefix = prefix.Value,
        From = Time(from),
        To = Time(to),
        Resources = [.. held.Select(u => new ResourceUtilizationDto
        {
            Path = u.Resource.Path.Value,
            Held = Seconds(u.HeldMs),
            Share = (double)u.HeldMs / (to - from),
        })],
    };

    public static string Reason(EndReason reason) => reason switch
    {
        EndReason.Expired => "expired",
        EndReason.SessionEnded => "session-ended",
        EndReason.Revoked => "revoked",
        _ => "released",
    };

    /// <param name="session">The session.</param>
    /// <param name="token">The session's token, to show whoever opened it; null everywhere else.</param>
    public static SessionDto ToDto(Session session, UInt128? token = null) => new()
    {
        Id = session.Id,
        Token = token is { } clear ? Token(clear) : null,
        Owner = session.Owner,
        Principal = session.Principal,
        Ttl = Seconds(session.TtlMs),
        ExpiresAt = Time(session.ExpiresAt),
        Leases = session.LeaseCount,
    };
}
