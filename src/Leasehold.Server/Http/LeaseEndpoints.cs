using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Protocol;
using Leasehold.Server.Engine;
using Leasehold.Server.Security;

namespace Leasehold.Server.Http;

/// <summary><c>/v1/leases</c>: acquire, read, renew, release. Parsing and formatting only; the engine decides.</summary>
internal static class LeaseEndpoints
{
    public static void MapLeaseEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/leases").WithTags("Leases");
        group.MapPost("/", AcquireAsync).WithName("AcquireLease")
            .WithMetadata(new JsonBody(typeof(AcquireRequest), """{"path": "/lab/rack-2/phone-7", "owner": "ci-42", "ttl": 60, "wait": 10}"""))
            .Produces<LeaseDto>(StatusCodes.Status201Created)
            .Produces<ProblemDto>(StatusCodes.Status409Conflict, ProblemDto.ContentType)
            .Produces<ProblemDto>(StatusCodes.Status400BadRequest, ProblemDto.ContentType)
            .WithSummary("Acquire one or more paths, waiting up to `wait` seconds");
        group.MapGet("/{id}", GetAsync).WithName("GetLease")
            .Produces<LeaseDto>()
            .Produces<ProblemDto>(StatusCodes.Status404NotFound, ProblemDto.ContentType)
            .WithSummary("A lease, without its token");
        group.MapPost("/{id}/renew", RenewAsync).WithName("RenewLease")
            .WithMetadata(new TokenHeader("lease"))
            .WithMetadata(new JsonBody(typeof(RenewRequest), """{"ttl": 120}"""))
            .Produces<LeaseDto>()
            .Produces<ProblemDto>(StatusCodes.Status403Forbidden, ProblemDto.ContentType)
            .WithSummary("Extend a lease's time to live (token in the Leasehold-Token header)");
        group.MapDelete("/{id}", ReleaseAsync).WithName("ReleaseLease")
            .WithMetadata(new TokenHeader("lease"))
            .Produces(StatusCodes.Status204NoContent)
            .Produces<ProblemDto>(StatusCodes.Status404NotFound, ProblemDto.ContentType)
            .WithSummary("Release a lease (token in the Leasehold-Token header)");
    }

    private static async Task<IResult> AcquireAsync(HttpContext context, EngineHost host)
    {
        var (body, problem) = await RequestReading.ReadJsonAsync(context.Request, ProtocolJsonContext.Default.AcquireRequest, null);
        if (problem is not null)
        {
            return problem;
        }
        if (!TryBuild(body!, Security.Caller.NameOf(context), out var spec, out var scope, out problem))
        {
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Lock, scope) is { } denied)
        {
            return denied;
        }
        try
        {
            var outcome = await host.AcquireAsync(spec, context.RequestAborted);
            if (outcome.Lease is { } lease)
            {
                if (!await GrantDelivery.TryDeliverAsync(context, lease) && !outcome.Reused)
                {
                    await host.ReleaseUndeliveredAsync(lease.Id);
                    Native.NativeCall.GaveUp(context);
                }
                return Results.Empty;
            }
            return Problems.Result(Problems.Code(outcome.Error), outcome.Detail, outcome.Blockers);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client is gone; its waiter left the queue. Nobody reads this answer.
            Native.NativeCall.GaveUp(context);
            return Results.Empty;
        }
    }

    /// <summary>Checks the body and returns the acquire to run; HTTP answers a refusal as a problem document.</summary>
    internal static bool TryBuild(AcquireRequest body, string? principal, out AcquireSpec spec, out PathScope scope, out IResult? problem)
    {
        var ok = TryBuild(body, principal, out spec, out scope, out Refusal refusal);
        problem = ok ? null : Problems.Result(refusal);
        return ok;
    }

    /// <summary>
    /// The lease's token: derived from the idempotency key (a retry finds the lease it got), from the owner for a
    /// reuse request (it may only find a lease taken the same way), else new; false with the refusal for a bad key.
    /// </summary>
    internal static bool TryToken(string? idempotencyKey, bool reuse, string? owner, string? principal, out UInt128 token, out Refusal refusal)
    {
        token = default;
        refusal = default;
        if (idempotencyKey is { } key)
        {
            if (!IsIdempotencyKey(key))
            {
                refusal = new Refusal(ErrorCodes.InvalidArgument, $"idempotencyKey is {MinKeyLength} to {MaxKeyLength} characters of A-Z, a-z, 0-9, '_' and '-'");
                return false;
            }
            if (reuse)
            {
                refusal = new Refusal(ErrorCodes.InvalidArgument, "give either reuse or idempotencyKey, not both");
                return false;
            }
            token = Tokens.ForIdempotencyKey(principal, key);
            return true;
        }
        token = reuse && owner is { } reuser ? Tokens.ForName(Tokens.PoolReuse, reuser) : Tokens.New();
        return true;
    }

    /// <summary>
    /// The checks and the acquire for any front-end: a refusal is a code and a detail each front-end answers in its
    /// own form (HTTP's problem+json, the native protocol's ERROR).
    /// </summary>
    internal static bool TryBuild(AcquireRequest body, string? principal, out AcquireSpec spec, out PathScope scope, out Refusal refusal)
    {
        spec = default;
        scope = PathScope.Anywhere;
        ResourcePath[] paths = [];
        PoolGroup[]? groups = null;
        if (body.Pool is not null || body.Groups is not null)
        {
            if (body.Path is not null || body.Paths is not null)
            {
                refusal = new Refusal(ErrorCodes.InvalidArgument, "give either path(s) or pool groups, not both");
                return false;
            }
            if (!PoolRequests.TryReadGroups(body, out groups, out refusal))
            {
                return false;
            }
        }
        else if (body.Path is not null && body.Paths is not null)
        {
            refusal = new Refusal(ErrorCodes.InvalidArgument, "give either path or paths, not both");
            return false;
        }
        else if (body.Path is not null)
        {
            if (!RequestReading.TryReadPath(body.Path, out var one, out refusal))
            {
                return false;
            }
            paths = [one];
        }
        else if (body.Paths is { Length: > 0 } many)
        {
            paths = new ResourcePath[many.Length];
            for (var i = 0; i < many.Length; i++)
            {
                if (!RequestReading.TryReadPath(many[i], out paths[i], out refusal))
                {
                    return false;
                }
            }
        }
        else
        {
            refusal = new Refusal(ErrorCodes.InvalidArgument, "path (or a non-empty paths array, or a pool) is required");
            return false;
        }
        LockMode mode;
        switch (body.Mode)
        {
            case null or "exclusive":
                mode = LockMode.Exclusive;
                break;
            case "shared":
                mode = LockMode.Shared;
                break;
            default:
                refusal = new Refusal(ErrorCodes.InvalidArgument, $"mode is 'exclusive' or 'shared', not '{body.Mode}'");
                return false;
        }
        if (body.Ttl is <= 0)
        {
            refusal = new Refusal(ErrorCodes.InvalidArgument, "ttl is a positive number of seconds; leave it out for a lease without one");
            return false;
        }
        if (body.Session is 0)
        {
            // 0 is the engine's "no session": taken as is, the lease would silently outlive the session the client meant.
            refusal = new Refusal(ErrorCodes.NotFound, "session 0 does not exist (closed or expired)");
            return false;
        }
        if (!RequestReading.TryMilliseconds(body.Ttl, "ttl", 366 * 86400, out var ttl, out refusal)
            || !RequestReading.TryMilliseconds(body.Wait, "wait", 86400, out var wait, out refusal))
        {
            return false;
        }
        if (!TryToken(body.IdempotencyKey, body.Reuse == true, body.Owner, principal, out var token, out refusal))
        {
            return false;
        }
        spec = new AcquireSpec
        {
            Paths = paths,
            Mode = mode,
            Limit = body.Limit,
            TtlMs = ttl,
            WaitMs = wait,
            SessionId = body.Session ?? 0,
            LockParents = body.LockParents ?? true,
            LockChildren = body.LockChildren ?? true,
            Owner = body.Owner,
            Principal = principal,
            Token = token,
            ByIdempotencyKey = body.IdempotencyKey is not null,
            Groups = groups,
            Reuse = body.Reuse ?? false,
        };
        // A pool request is checked on its pools: which resources it gets is the engine's choice.
        scope = groups is null ? new PathScope(paths) : new PathScope([.. groups.Select(g => g.Pool).Distinct()], Subtree: true);
        refusal = default;
        return true;
    }

    internal const int MinKeyLength = 16;
    internal const int MaxKeyLength = 128;

    private static bool IsIdempotencyKey(string key)
        => key.Length is >= MinKeyLength and <= MaxKeyLength && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static async Task<IResult> GetAsync(string id, HttpContext context, EngineHost host)
    {
        if (!long.TryParse(id, out var leaseId))
        {
            return NoSuchLease(id);
        }
        if (await LeaseAccess.DenyAsync(context, host, leaseId, Right.Read) is { } denied)
        {
            return denied;
        }
        var lease = await host.GetLeaseAsync(leaseId);
        return lease is null ? NoSuchLease(id) : Results.Json(lease, ProtocolJsonContext.Default.LeaseDto);
    }

    private static async Task<IResult> RenewAsync(string id, HttpContext context, EngineHost host)
    {
        if (!long.TryParse(id, out var leaseId))
        {
            return NoSuchLease(id);
        }
        if (!RequestReading.TryReadToken(context.Request, out var token, out var problem))
        {
            return problem!;
        }
        if (await LeaseAccess.DenyAsync(context, host, leaseId, Right.Lock, ownOnly: true) is { } denied)
        {
            return denied;
        }
        var (body, bodyProblem) = await RequestReading.ReadJsonAsync(context.Request, ProtocolJsonContext.Default.RenewRequest, new RenewRequest());
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if (body!.Ttl is <= 0)
        {
            return Problems.Result(ErrorCodes.InvalidArgument, "ttl is a positive number of seconds");
        }
        if (!RequestReading.TryMilliseconds(body.Ttl, "ttl", 366 * 86400, out var ttl, out problem))
        {
            return problem!;
        }
        var (error, lease, detail) = await host.RenewAsync(leaseId, Tokens.Hash(token), ttl);
        return error == ErrorCode.None
            ? Results.Json(lease!, ProtocolJsonContext.Default.LeaseDto)
            : Problems.Result(error, detail);
    }

    private static async Task<IResult> ReleaseAsync(string id, HttpContext context, EngineHost host)
    {
        if (!long.TryParse(id, out var leaseId))
        {
            return NoSuchLease(id);
        }
        if (!RequestReading.TryReadToken(context.Request, out var token, out var problem))
        {
            return problem!;
        }
        if (await LeaseAccess.DenyAsync(context, host, leaseId, Right.Lock, ownOnly: true) is { } denied)
        {
            return denied;
        }
        var result = await host.ReleaseAsync(leaseId, Tokens.Hash(token));
        return result.Error == ErrorCode.None ? Results.NoContent() : Problems.Result(result.Error, result.Detail);
    }

    private static IResult NoSuchLease(string id) => Problems.Result(ErrorCodes.NotFound, $"lease {id} is not held (never granted, released, or expired)");
}
