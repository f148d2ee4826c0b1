using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Engine;
using Leasehold.Server.Security;

namespace Leasehold.Server.Http;

/// <summary><c>/v1/sessions</c>: open, keep alive, close. Leases bound to a session end with it.</summary>
internal static class SessionEndpoints
{
    private const double DefaultTtlSeconds = 30;

    public static void MapSessionEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/sessions").WithTags("Sessions");
        group.MapPost("/", OpenAsync).WithName("OpenSession")
            .WithMetadata(new JsonBody(typeof(SessionRequest), """{"ttl": 15, "owner": "worker-7"}"""))
            .Produces<SessionDto>(StatusCodes.Status201Created)
            .WithSummary("Open a session (ttl in seconds, default 30)");
        group.MapPost("/{id}/keepalive", KeepAliveAsync).WithName("KeepSessionAlive")
            .WithMetadata(new TokenHeader("session"))
            .Produces<SessionDto>()
            .WithSummary("Keep a session alive for another ttl (token in the Leasehold-Token header)");
        group.MapDelete("/{id}", CloseAsync).WithName("CloseSession")
            .WithMetadata(new TokenHeader("session"))
            .Produces(StatusCodes.Status204NoContent)
            .WithSummary("Close a session, releasing its leases at once");
    }

    private static async Task<IResult> OpenAsync(HttpContext context, EngineHost host)
    {
        // A session holds no path; opening one needs the lock right somewhere.
        if (await Access.DenyAsync(context, Right.Lock, PathScope.Anywhere) is { } denied)
        {
            return denied;
        }
        var (body, problem) = await RequestReading.ReadJsonAsync(context.Request, ProtocolJsonContext.Default.SessionRequest, new SessionRequest());
        if (problem is not null)
        {
            return problem;
        }
        if (!RequestReading.TryMilliseconds(body!.Ttl ?? DefaultTtlSeconds, "ttl", 86400, out var ttl, out problem))
        {
            return problem!;
        }
        return Answer(await host.OpenSessionAsync(ttl, body.Owner, Security.Caller.NameOf(context), Tokens.New()), StatusCodes.Status201Created);
    }

    private static async Task<IResult> KeepAliveAsync(string id, HttpContext context, EngineHost host)
    {
        if (!long.TryParse(id, out var sessionId))
        {
            return NoSuchSession(id);
        }
        if (!RequestReading.TryReadToken(context.Request, out var token, out var problem))
        {
            return problem!;
        }
        if (await DenyOnSessionAsync(context, host, sessionId) is { } denied)
        {
            return denied;
        }
        return Answer(await host.KeepSessionAliveAsync(sessionId, Tokens.Hash(token)), StatusCodes.Status200OK);
    }

    private static async Task<IResult> CloseAsync(string id, HttpContext context, EngineHost host)
    {
        if (!long.TryParse(id, out var sessionId))
        {
            return NoSuchSession(id);
        }
        if (!RequestReading.TryReadToken(context.Request, out var token, out var problem))
        {
            return problem!;
        }
        if (await DenyOnSessionAsync(context, host, sessionId) is { } denied)
        {
            return denied;
        }
        var result = await host.CloseSessionAsync(sessionId, Tokens.Hash(token));
        return result.Error == ErrorCode.None ? Results.NoContent() : Problems.Result(result.Error, result.Detail);
    }

    /// <summary>
    /// The lock right somewhere, and for a session another principal opened, admin on everything (a session's
    /// leases may be anywhere): <c>lock</c> covers one's own sessions, as it covers one's own leases.
    /// </summary>
    private static async ValueTask<IResult?> DenyOnSessionAsync(HttpContext context, EngineHost host, long sessionId)
    {
        if (!Access.IsEnabled(context))
        {
            return null;
        }
        var (found, principal) = await host.GetSessionPrincipalAsync(sessionId);
        var own = !found || string.Equals(principal, Caller.NameOf(context), StringComparison.Ordinal);
        return own
            ? await Access.DenyAsync(context, Right.Lock, PathScope.Anywhere)
            : await Access.DenyAsync(context, Right.Admin, PathScope.Root);
    }

    private static IResult Answer((ErrorCode Error, SessionDto? Session, string? Detail) result, int status)
        => result.Error == ErrorCode.None
            ? Results.Json(result.Session!, ProtocolJsonContext.Default.SessionDto, statusCode: status)
            : Problems.Result(result.Error, result.Detail);

    private static IResult NoSuchSession(string id) => Problems.Result(ErrorCodes.NotFound, $"session {id} does not exist (closed or expired)");
}
