using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Engine;
using Leasehold.Server.Http;
using Leasehold.Server.Security;

namespace Leasehold.Server.Compat;

/// <summary>
/// Locker 1.0b's routes (<c>/canhaz</c>, <c>/nowant</c>, <c>/dohaz</c>, any method) over the engine, so
/// Locker clients work unchanged: see docs/compat/locker.md. Parsing and formatting only; the engine decides.
/// </summary>
internal static class LockerEndpoints
{
    /// <summary>Configuration switch (default true).</summary>
    public const string EnabledKey = Section + ":Enabled";

    public const string Section = "Leasehold:Locker";

    /// <summary>Locker's default id, and the name given to a holder that has no owner.</summary>
    private const string Anonymous = "?";

    public static void Map(WebApplication app)
    {
        if (!app.Configuration.GetValue(EnabledKey, true)
            || !FrontEndPrincipal.TryResolve(app.Configuration, app.Services.GetRequiredService<SecurityState>().Enabled, Section, "Locker", app.Logger, out var principal))
        {
            return;
        }
        app.Map("/canhaz/{**path}", CanHazAsync).ExcludeFromDescription().RunAs(principal);
        app.Map("/nowant/{**path}", NoWantAsync).ExcludeFromDescription().RunAs(principal);
        app.Map("/dohaz/{**path}", DoHazAsync).ExcludeFromDescription().RunAs(principal);
    }

    private static async Task<IResult> CanHazAsync(HttpContext context, EngineHost host)
    {
        var parameters = await LockerRequest.ReadParametersAsync(context.Request);
        if (!TryRead(context, parameters, "canhaz", out var path, out var invalid))
        {
            return invalid!;
        }
        if (await Access.DenyAsync(context, Right.Lock, path) is { } denied)
        {
            return denied;
        }
        var token = Guid.NewGuid();
        var command = new AcquireLease
        {
            Paths = [path],
            Mode = LockMode.Exclusive,
            Owner = parameters.Values.GetValueOrDefault("id", Anonymous),
            Principal = Caller.NameOf(context),
            Token = Tokens.Hash(LockerRequest.ToEngineToken(token)),
            LockParents = LockerRequest.Flag(parameters, "lockParents"),
            LockChildren = LockerRequest.Flag(parameters, "lockChildren"),
        };
        var (granted, holder, error) = await host.Submit(new CanHazItem(command, path));
        if (granted is { } id)
        {
            // Locker's locks have no ttl: one whose token never reached its client would be held for good.
            var answer = System.Text.Encoding.UTF8.GetBytes(LockerJson.Granted(token.ToString("D")));
            if (!await GrantDelivery.TryDeliverAsync(context, answer, StatusCodes.Status200OK, LockerJson.ContentType))
            {
                await host.ReleaseUndeliveredAsync(id);
            }
            return Results.Empty;
        }
        return error is null ? Answer(LockerJson.Refused(holder))
            : Answer(LockerJson.Error("canhaz", error), StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> NoWantAsync(HttpContext context, EngineHost host)
    {
        var parameters = await LockerRequest.ReadParametersAsync(context.Request);
        if (!TryRead(context, parameters, "nowant", out var path, out var invalid))
        {
            return invalid!;
        }
        if (await Access.DenyAsync(context, Right.Lock, path) is { } denied)
        {
            return denied;
        }
        if (!LockerRequest.TryReadToken(parameters.Values.GetValueOrDefault("token"), out var token))
        {
            return Answer(LockerJson.Ok(false));
        }
        var hash = Tokens.Hash(token);
        // As on /v1: the lock right covers one's own leases; another principal's needs admin on the path.
        var caller = Caller.NameOf(context);
        var mayAdmin = Access.Filter(context, Right.Admin);
        var (released, foreign) = await host.Submit(new NoWantItem(path, hash, caller, mayAdmin));
        if (foreign)
        {
            Access.Audit(context).LogWarning("Denied {Principal} the admin right on {Path}: Locker nowant of another principal's lease", caller ?? "anonymous", path.Value);
            return Problems.Result(ErrorCodes.Forbidden, $"{caller ?? "anonymous"} has no admin right on {path}, and the lease is another principal's");
        }
        return Answer(LockerJson.Ok(released));
    }

    private static async Task<IResult> DoHazAsync(HttpContext context, EngineHost host)
    {
        var parameters = await LockerRequest.ReadParametersAsync(context.Request);
        // dohaz takes no parameters: CherryPy answers 404 to query parameters and 400 to body fields.
        if (parameters.InQuery.Length > 0)
        {
            return Problems.Result(ErrorCodes.NotFound, "Unexpected query string parameters: " + string.Join(", ", parameters.InQuery));
        }
        if (parameters.InBody.Length > 0)
        {
            return Problems.Result(ErrorCodes.InvalidArgument, "Unexpected body parameters: " + string.Join(", ", parameters.InBody));
        }
        if (!TryRead(context, parameters, "dohaz", out var path, out var invalid))
        {
            return invalid!;
        }
        if (await Access.DenyAsync(context, Right.Read, path) is { } denied)
        {
            return denied;
        }
        var holder = await host.Submit(new DoHazItem(path));
        return Answer(LockerJson.LockedBy(holder));
    }

    /// <summary>The path, or the 400 answer for a body or path Leasehold cannot take.</summary>
    private static bool TryRead(HttpContext context, LockerRequest.Parameters parameters, string route, out ResourcePath path, out IResult? invalid)
    {
        path = ResourcePath.Root;
        var error = parameters.Error;
        if (error is null)
        {
            if (LockerRequest.TryReadPath(context, route, out path, out var pathError))
            {
                invalid = null;
                return true;
            }
            error = "the path is not valid: " + pathError;
        }
        invalid = Answer(LockerJson.Error(route, error), StatusCodes.Status400BadRequest);
        return false;
    }

    private static string HolderName(Lease? lease) => lease?.Owner ?? Anonymous;

    /// <summary>canhaz on the writer (<paramref name="command"/> takes <paramref name="path"/>): the lease's id, or the holder's name when the path is taken, or the engine's refusal.</summary>
    private sealed class CanHazItem(AcquireLease command, ResourcePath path) : ValueItem<(long? Granted, string? Holder, string? Error)>
    {
        protected override (long?, string?, string?) Compute(Writer writer)
        {
            var result = writer.Run(command with { Now = writer.Now }, static (e, c) => e.Acquire(c));
            return result.Error switch
            {
                ErrorCode.None => (result.Lease!.Id, null, null),
                // A path free of holders but wanted by an earlier (/v1) waiter is refused too, naming "?".
                // Locker has no word for a drained path: refused, like a held one, so its clients try again later.
                ErrorCode.Locked or ErrorCode.LimitMismatch or ErrorCode.Draining => (null, HolderName(writer.Engine.FindLockerHolder(path)), null),
                _ => (null, null, result.Detail),
            };
        }
    }

    /// <summary>
    /// nowant on the writer: releases the lease on exactly <paramref name="path"/> whose token hash is <paramref name="hash"/>
    /// when it is the caller's own or the caller may administer its paths; whether it was released, and whether it was refused
    /// as another principal's.
    /// </summary>
    private sealed class NoWantItem(ResourcePath path, UInt128 hash, string? caller, Func<IEnumerable<ResourcePath>, bool> mayAdmin)
        : ValueItem<(bool Released, bool Foreign)>
    {
        protected override (bool, bool) Compute(Writer writer)
        {
            // Only a lease on exactly this path: a path merely covered by a parent's lock is not unlocked.
            var lease = writer.Engine.GetResource(path).Holders.FirstOrDefault(h => h.Token == hash);
            if (lease is null)
            {
                return (false, false);
            }
            if (!string.Equals(lease.Principal, caller, StringComparison.Ordinal) && !mayAdmin(lease.Paths))
            {
                return (false, true);
            }
            return (writer.Run(new ReleaseLease { Now = writer.Now, LeaseId = lease.Id, Token = hash }, static (e, c) => e.Release(c)).Error == ErrorCode.None, false);
        }
    }

    /// <summary>dohaz on the writer: the name of whoever holds <paramref name="path"/> as Locker sees it, or null when nobody does.</summary>
    private sealed class DoHazItem(ResourcePath path) : ValueItem<string?>
    {
        protected override string? Compute(Writer writer) => writer.Engine.FindLockerHolder(path) is { } lease ? HolderName(lease) : null;
    }

    private static IResult Answer(string json, int status = StatusCodes.Status200OK)
        => Results.Text(json, LockerJson.ContentType, statusCode: status);
}
