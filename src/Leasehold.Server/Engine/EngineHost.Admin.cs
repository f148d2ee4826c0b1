using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Wire;

namespace Leasehold.Server.Engine;

/// <summary>
/// The administrator's requests as typed work items: end a lease or session without its token, drain and undrain a
/// prefix, and the lists an administrator reads. Each takes the request's arguments, builds its command on the writer
/// (stamped with the writer's clock) and answers once durable; the access checks and the audit log are the caller's.
/// </summary>
public sealed partial class EngineHost
{
    /// <summary>Revokes a lease without its token; the error, the lease as the API shows it, and the detail, once durable.</summary>
    /// <param name="leaseId">The lease.</param>
    /// <param name="actor">The administrator's principal name, or null (security off).</param>
    internal Task<(ErrorCode Error, LeaseDto? Lease, string? Detail)> RevokeAsync(long leaseId, string? actor)
        => Submit(new RevokeItem(leaseId, actor));

    /// <summary>
    /// Ends a session without its token; the error, the session as it was just before it ended (its leases still
    /// counted), and the detail, once durable.
    /// </summary>
    internal Task<(ErrorCode Error, SessionDto? Session, string? Detail)> EndSessionAsync(long sessionId, string? actor)
        => Submit(new EndSessionItem(sessionId, actor));

    /// <summary>Drains <paramref name="path"/> (nothing new is granted at or under it); the engine's result once durable.</summary>
    internal Task<DrainResult> DrainAsync(ResourcePath path, string? actor) => Submit(new DrainItem(path, actor));

    /// <summary>Undrains <paramref name="path"/>; the drain that ended, or the error, once durable.</summary>
    internal Task<OperationResult<Drain>> UndrainAsync(ResourcePath path, string? actor) => Submit(new UndrainItem(path, actor));

    /// <summary>Every drained prefix.</summary>
    internal Task<DrainListDto> ListDrainsAsync() => Submit(new DrainListItem());

    /// <summary>The leases <paramref name="filter"/> matches, oldest first, at most <paramref name="limit"/> (without tokens).</summary>
    internal Task<AdminLeaseListDto> FindLeasesAsync(LeaseFilter filter, int limit) => Submit(new FindLeasesItem(filter, limit));

    /// <summary>The sessions <paramref name="filter"/> matches, oldest first, at most <paramref name="limit"/> (without tokens).</summary>
    internal Task<AdminSessionListDto> FindSessionsAsync(LeaseFilter filter, int limit) => Submit(new FindSessionsItem(filter, limit));

    /// <summary>A command's result on a lease as the API answers it: the error, the lease mapped on the writer, the detail.</summary>
    private static (ErrorCode, LeaseDto?, string?) Answer(OperationResult<Lease> result, LockEngine engine)
        => (result.Error, result.Value is { } lease ? Dtos.ToDto(lease, engine) : null, result.Detail);

    private sealed class RevokeItem(long leaseId, string? actor) : ValueItem<(ErrorCode, LeaseDto?, string?)>
    {
        protected override (ErrorCode, LeaseDto?, string?) Compute(Writer writer)
            => Answer(writer.Run(new RevokeLease { Now = writer.Now, LeaseId = leaseId, Actor = actor }, static (e, c) => e.Revoke(c)), writer.Engine);
    }

    private sealed class EndSessionItem(long sessionId, string? actor) : ValueItem<(ErrorCode, SessionDto?, string?)>
    {
        protected override (ErrorCode, SessionDto?, string?) Compute(Writer writer)
        {
            // Described before it ends, while it still counts its leases.
            var before = writer.Engine.GetSession(sessionId) is { } session ? Dtos.ToDto(session) : null;
            var result = writer.Run(new EndSession { Now = writer.Now, SessionId = sessionId, Actor = actor }, static (e, c) => e.EndSession(c));
            return (result.Error, before, result.Detail);
        }
    }

    private sealed class DrainItem(ResourcePath path, string? actor) : ValueItem<DrainResult>
    {
        protected override DrainResult Compute(Writer writer)
            => writer.Run(new DrainPrefix { Now = writer.Now, Path = path, Actor = actor }, static (e, c) => e.Drain(c));
    }

    private sealed class UndrainItem(ResourcePath path, string? actor) : ValueItem<OperationResult<Drain>>
    {
        protected override OperationResult<Drain> Compute(Writer writer)
            => writer.Run(new UndrainPrefix { Now = writer.Now, Path = path, Actor = actor }, static (e, c) => e.Undrain(c));
    }

    private sealed class DrainListItem : ValueItem<DrainListDto>
    {
        protected override DrainListDto Compute(Writer writer) => new() { Drains = [.. writer.Engine.Drains.Select(Dtos.ToDto)] };
    }

    private sealed class FindLeasesItem(LeaseFilter filter, int limit) : ValueItem<AdminLeaseListDto>
    {
        protected override AdminLeaseListDto Compute(Writer writer)
        {
            var engine = writer.Engine;
            var found = engine.FindLeases(filter, writer.Now, limit + 1);
            return new AdminLeaseListDto { Leases = [.. found.Take(limit).Select(l => Dtos.ToDto(l, engine))], Truncated = found.Count > limit };
        }
    }

    private sealed class FindSessionsItem(LeaseFilter filter, int limit) : ValueItem<AdminSessionListDto>
    {
        protected override AdminSessionListDto Compute(Writer writer)
        {
            var found = writer.Engine.FindSessions(filter, limit + 1);
            return new AdminSessionListDto { Sessions = [.. found.Take(limit).Select(s => Dtos.ToDto(s))], Truncated = found.Count > limit };
        }
    }
}
