using Leasehold.Protocol;
using Leasehold.Server.Http;
using Microsoft.AspNetCore.Authorization;

namespace Leasehold.Server.Security;

/// <summary>
/// The one place endpoints ask whether the caller may do something: a denial is a problem response (401 for a
/// caller without credentials, 403 for a principal without the right), logged to the audit trail; nothing is
/// changed. With security off every request is allowed without a lookup.
/// </summary>
public static class Access
{
    /// <summary>Whether requests are checked at all (some way to authenticate is configured).</summary>
    public static bool IsEnabled(HttpContext context) => context.RequestServices.GetRequiredService<SecurityState>().Enabled;

    /// <summary>Null when allowed; otherwise the response to send instead of doing anything.</summary>
    public static async ValueTask<IResult?> DenyAsync(HttpContext context, Right right, PathScope scope)
    {
        if (await CheckAsync(context, right, scope) is not { } denial)
        {
            return null;
        }
        if (denial.Code == ErrorCodes.Unauthenticated)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }
        return Problems.Result(denial.Code, denial.Detail);
    }

    /// <summary>
    /// Null when allowed; otherwise why not, as a problem code and detail (for front-ends that answer in
    /// their own format). Logs the denial to the audit trail.
    /// </summary>
    public static ValueTask<Denial?> CheckAsync(HttpContext context, Right right, PathScope scope)
        => CheckAsync(context.RequestServices, context.User, right, scope, context.Request.Method, context.Request.Path.Value);

    /// <summary>
    /// The check itself, for any front-end: <paramref name="user"/> is the caller as authenticated,
    /// <paramref name="method"/> and <paramref name="what"/> say what it asked, for the audit trail.
    /// </summary>
    public static async ValueTask<Denial?> CheckAsync(IServiceProvider services, System.Security.Claims.ClaimsPrincipal user, Right right, PathScope scope, string method, string? what)
    {
        var state = services.GetRequiredService<SecurityState>();
        if (!state.Enabled)
        {
            return null;
        }
        var authorization = services.GetRequiredService<IAuthorizationService>();
        var result = await authorization.AuthorizeAsync(user, scope, RightRequirement.Of(right));
        if (result.Succeeded)
        {
            return null;
        }
        var name = Caller.NameOf(user);
        AuditLog.Create(services.GetRequiredService<ILoggerFactory>()).LogWarning("Denied {Principal} the {Right} right on {Scope}: {Method} {Path}",
            name ?? "anonymous", Name(right), scope, method, what);
        return name is null
            ? new Denial(ErrorCodes.Unauthenticated, $"this needs the {Name(right)} right on {scope}; send an API key or bearer token")
            : new Denial(ErrorCodes.Forbidden, $"{name} has no {Name(right)} right on {scope}");
    }

    public static ValueTask<IResult?> DenyAsync(HttpContext context, Right right, params Core.ResourcePath[] paths) =>
        DenyAsync(context, right, new PathScope(paths));

    /// <summary>
    /// For results that each name paths (history entries): whether the caller has <paramref name="right"/> on all of
    /// an item's paths. Evaluated with the rules in force, without the authorization service, so it can run on
    /// the writer; always true with security off.
    /// </summary>
    public static Func<IEnumerable<Core.ResourcePath>, bool> Filter(HttpContext context, Right right)
    {
        var state = context.RequestServices.GetRequiredService<SecurityState>();
        if (!state.Enabled)
        {
            return static _ => true;
        }
        var rules = state.Rules;
        var user = context.User;
        return paths => rules.Allows(user, right, paths);
    }

    /// <summary>Requires <paramref name="right"/> on the scope <paramref name="scope"/> finds in the request before the handler runs.</summary>
    public static TBuilder RequireRight<TBuilder>(this TBuilder builder, Right right, Func<HttpContext, PathScope> scope)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (invocation, next) =>
            await DenyAsync(invocation.HttpContext, right, scope(invocation.HttpContext)) ?? await next(invocation));

    public static TBuilder RequireRight<TBuilder>(this TBuilder builder, Right right)
        where TBuilder : IEndpointConventionBuilder => builder.RequireRight(right, _ => PathScope.Root);

    public static ILogger Audit(HttpContext context) => AuditLog.Create(context.RequestServices.GetRequiredService<ILoggerFactory>());

    public static string Name(Right right) => right.ToString().ToLowerInvariant();
}

/// <summary>Why a request was refused: a problem code of the catalogue and a sentence.</summary>
public sealed record Denial(string Code, string Detail);
