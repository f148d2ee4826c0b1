using Leasehold.Server.Wire;
using System.Globalization;
using System.Text.Json.Nodes;
using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Engine;
using Leasehold.Server.Security;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>
/// <c>/v1/admin</c>: end anyone's lease or session without its token, drain and undrain prefixes, and list
/// every lease and session (never with tokens). All mapped on one group, so the admin right can be required
/// of the whole group in one place. Each action is written to the <see cref="AuditLog"/>.
/// </summary>
internal static class AdminEndpoints
{
    private const string DrainsPrefix = "/v1/admin/drains";
    private const int DefaultListLimit = 1000;
    private const int MaxListLimit = 10_000;

    public static RouteGroupBuilder MapAdminEndpoints(this RouteGroupBuilder group)
    {
        group.WithTags("Admin");
        group.MapDelete("/leases/{id}", RevokeAsync).WithName("RevokeLease")
            .Produces<LeaseDto>()
            .WithSummary("Revoke a lease without its token; its history entry says `revoked` and who did it");
        group.MapDelete("/sessions/{id}", EndSessionAsync).WithName("EndSession")
            .Produces<SessionDto>()
            .WithSummary("End a session without its token, as if it expired: its leases end and its waiters fail");
        group.MapPut("/drains/{**path}", DrainAsync).WithName("DrainPrefix")
            .Produces<DrainDto>(StatusCodes.Status201Created)
            .Produces<DrainDto>()
            .WithSummary("Drain a prefix: nothing new is granted at or under it; held leases run out (200 if it was drained already)");
        group.MapDelete("/drains/{**path}", UndrainAsync).WithName("UndrainPrefix")
            .Produces<DrainDto>()
            .WithSummary("Undrain a prefix: the requests waiting for it are granted in queue order");
        group.MapGet("/drains", ListDrainsAsync).WithName("ListDrains")
            .Produces<DrainListDto>()
            .WithSummary("Every drained prefix");
        group.MapGet("/leases", ListLeasesAsync).WithName("ListAllLeases")
            .WithMetadata(
                new QueryParameter("owner", JsonSchemaType.String, "Only leases with this owner.", JsonValue.Create("ci-42")),
                new QueryParameter("principal", JsonSchemaType.String, "Only leases acquired by this authenticated principal.", JsonValue.Create("ci-bot")),
                QueryParameter.Prefix("Only leases with a path"),
                new QueryParameter("minAgeMs", JsonSchemaType.Integer, "Only leases granted at least this many milliseconds ago.", JsonValue.Create(600_000)),
                ListLimit("leases"))
            .Produces<AdminLeaseListDto>()
            .WithSummary("Every lease, oldest first, filtered by owner, principal, prefix and age (query), without tokens");
        group.MapGet("/sessions", ListSessionsAsync).WithName("ListAllSessions")
            .WithMetadata(
                new QueryParameter("owner", JsonSchemaType.String, "Only sessions with this owner.", JsonValue.Create("worker-7")),
                new QueryParameter("principal", JsonSchemaType.String, "Only sessions opened by this authenticated principal.", JsonValue.Create("ci-bot")),
                ListLimit("sessions"))
            .Produces<AdminSessionListDto>()
            .WithSummary("Every session, oldest first, filtered by owner and principal (query), without tokens");
        return group;
    }

    private static QueryParameter ListLimit(string what)
        => new("limit", JsonSchemaType.Integer, $"At most this many {what}, 1 to {MaxListLimit} (default {DefaultListLimit}); `truncated` says when more match.", JsonValue.Create(100));

    private static async Task<IResult> RevokeAsync(string id, HttpContext context, EngineHost host, ILoggerFactory loggers)
    {
        var actor = Caller.NameOf(context);
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var leaseId))
        {
            return Refused(loggers, actor, "revoke", "lease " + id, ErrorCodes.NotFound, $"lease {id} is not held (never granted, released, or expired)");
        }
        // Admin on the lease's paths: a lab's administrator may revoke what is held in the lab.
        if (await LeaseAccess.DenyAsync(context, host, leaseId, Right.Admin) is { } denied)
        {
            return denied;
        }
        var (error, dto, detail) = await host.RevokeAsync(leaseId, actor);
        if (error != ErrorCode.None)
        {
            return Refused(loggers, actor, "revoke", "lease " + id, Problems.Code(error), detail);
        }
        AuditLog.Action(AuditLog.Create(loggers), actor, "revoke", $"lease {leaseId} (owner {dto!.Owner ?? "-"}, {string.Join(" ", dto.Paths)})", "ok");
        return Results.Json(dto, ProtocolJsonContext.Default.LeaseDto);
    }

    private static async Task<IResult> EndSessionAsync(string id, HttpContext context, EngineHost host, ILoggerFactory loggers)
    {
        var actor = Caller.NameOf(context);
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var sessionId))
        {
            return Refused(loggers, actor, "end-session", "session " + id, ErrorCodes.NotFound, $"session {id} does not exist (closed or expired)");
        }
        // A session's leases may be anywhere: admin on everything.
        if (await Access.DenyAsync(context, Right.Admin, PathScope.Root) is { } denied)
        {
            return denied;
        }
        // The session as it was before it ended, while it still counted its leases.
        var (error, dto, detail) = await host.EndSessionAsync(sessionId, actor);
        if (error != ErrorCode.None)
        {
            return Refused(loggers, actor, "end-session", "session " + id, Problems.Code(error), detail);
        }
        AuditLog.Action(AuditLog.Create(loggers), actor, "end-session", $"session {sessionId} (owner {dto!.Owner ?? "-"}, {dto.Leases} leases)", "ok");
        return Results.Json(dto, ProtocolJsonContext.Default.SessionDto);
    }

    private static async Task<IResult> DrainAsync(HttpContext context, EngineHost host, ILoggerFactory loggers)
    {
        var actor = Caller.NameOf(context);
        if (!RequestReading.TryReadRoutePath(context, DrainsPrefix, out var path, out var problem))
        {
            AuditLog.Action(AuditLog.Create(loggers), actor, "drain", context.Request.Path, ErrorCodes.InvalidPath);
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Admin, PathScope.Under(path)) is { } denied)
        {
            return denied;
        }
        var result = await host.DrainAsync(path, actor);
        if (result.Error != ErrorCode.None)
        {
            return Refused(loggers, actor, "drain", path.Value, Problems.Code(result.Error), result.Detail);
        }
        AuditLog.Action(AuditLog.Create(loggers), actor, "drain", path.Value, result.Started ? "ok" : "unchanged (already drained)");
        return Results.Json(Dtos.ToDto(result.Drain!), ProtocolJsonContext.Default.DrainDto,
            statusCode: result.Started ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> UndrainAsync(HttpContext context, EngineHost host, ILoggerFactory loggers)
    {
        var actor = Caller.NameOf(context);
        if (!RequestReading.TryReadRoutePath(context, DrainsPrefix, out var path, out var problem))
        {
            AuditLog.Action(AuditLog.Create(loggers), actor, "undrain", context.Request.Path, ErrorCodes.InvalidPath);
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Admin, PathScope.Under(path)) is { } denied)
        {
            return denied;
        }
        var result = await host.UndrainAsync(path, actor);
        if (result.Error != ErrorCode.None)
        {
            return Refused(loggers, actor, "undrain", path.Value, Problems.Code(result.Error), result.Detail);
        }
        AuditLog.Action(AuditLog.Create(loggers), actor, "undrain", path.Value, "ok");
        return Results.Json(Dtos.ToDto(result.Value!), ProtocolJsonContext.Default.DrainDto);
    }

    private static async Task<IResult> ListDrainsAsync(HttpContext context, EngineHost host)
    {
        if (await Access.DenyAsync(context, Right.Read, PathScope.Root) is { } denied)
        {
            return denied;
        }
        var dto = await host.ListDrainsAsync();
        return Results.Json(dto, ProtocolJsonContext.Default.DrainListDto);
    }

    private static async Task<IResult> ListLeasesAsync(HttpContext context, EngineHost host)
    {
        var query = context.Request.Query;
        ResourcePath? prefix = null;
        if (query.TryGetValue("prefix", out var p) && !RequestReading.TryParsePath(p.ToString(), out prefix, out var problem))
        {
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Admin, PathScope.Under(prefix ?? Core.ResourcePath.Root)) is { } denied)
        {
            return denied;
        }
        long minAge = 0;
        if (query.TryGetValue("minAgeMs", out var a) && (!long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out minAge)))
        {
            return Problems.Result(ErrorCodes.InvalidArgument, "minAgeMs is a whole number of milliseconds, 0 or more");
        }
        if (!TryLimit(query, out var limit, out var limitProblem))
        {
            return limitProblem!;
        }
        var filter = new LeaseFilter(Text(query, "owner"), Text(query, "principal"), prefix, minAge);
        var dto = await host.FindLeasesAsync(filter, limit);
        return Results.Json(dto, ProtocolJsonContext.Default.AdminLeaseListDto);
    }

    private static async Task<IResult> ListSessionsAsync(HttpContext context, EngineHost host)
    {
        if (await Access.DenyAsync(context, Right.Admin, PathScope.Root) is { } denied)
        {
            return denied;
        }
        var query = context.Request.Query;
        if (!TryLimit(query, out var limit, out var problem))
        {
            return problem!;
        }
        var filter = new LeaseFilter(Text(query, "owner"), Text(query, "principal"));
        var dto = await host.FindSessionsAsync(filter, limit);
        return Results.Json(dto, ProtocolJsonContext.Default.AdminSessionListDto);
    }

    private static string? Text(IQueryCollection query, string name) => query.TryGetValue(name, out var value) ? value.ToString() : null;

    private static bool TryLimit(IQueryCollection query, out int limit, out IResult? problem)
    {
        limit = DefaultListLimit;
        problem = null;
        if (query.TryGetValue("limit", out var l) && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxListLimit))
        {
            problem = Problems.Result(ErrorCodes.InvalidArgument, $"limit is a whole number between 1 and {MaxListLimit}");
            return false;
        }
        return true;
    }

    private static IResult Refused(ILoggerFactory loggers, string? actor, string action, string target, string code, string? detail)
    {
        AuditLog.Action(AuditLog.Create(loggers), actor, action, target, code);
        return Problems.Result(code, detail);
    }
}
