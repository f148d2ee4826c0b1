using System.Xml;
using Leasehold.Core;
using Leasehold.Server.Engine;
using Leasehold.Server.Http;
using Leasehold.Server.Security;

namespace Leasehold.Server.Compat;

/// <summary>
/// gocept.lockd's XML-RPC endpoint at <c>POST /</c> and <c>POST /RPC2</c>, so lockd clients work unchanged:
/// see docs/compat/lockd.md. Every failure, a malformed request included, is a fault with faultCode 1.
/// </summary>
internal static class LockdEndpoints
{
    /// <summary>Configuration switch (default true).</summary>
    public const string EnabledKey = Section + ":Enabled";

    public const string Section = "Leasehold:Lockd";

    /// <summary>The path under which resource names live (default <see cref="DefaultPrefix"/>).</summary>
    public const string PrefixKey = Section + ":Prefix";

    public const string DefaultPrefix = "/lockd";

    public static void Map(WebApplication app)
    {
        if (!app.Configuration.GetValue(EnabledKey, true)
            || !FrontEndPrincipal.TryResolve(app.Configuration, app.Services.GetRequiredService<SecurityState>().Enabled, Section, "gocept.lockd", app.Logger, out var principal))
        {
            return;
        }
        var prefix = app.Configuration[PrefixKey] ?? DefaultPrefix;
        if (!ResourcePath.TryParse(prefix, out var path, out var error))
        {
            throw new InvalidDataException($"{PrefixKey} '{prefix}' is not a path: {error}");
        }
        var service = new LockdService(path);
        foreach (var route in new[] { "/", "/RPC2" })
        {
            app.MapPost(route, (HttpContext context, EngineHost host) => HandleAsync(context, host, service)).ExcludeFromDescription().RunAs(principal);
        }
    }

    private static async Task<IResult> HandleAsync(HttpContext context, EngineHost host, LockdService service)
    {
        using var body = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            return Problems.Result(ex);
        }
        body.Position = 0;
        XmlRpcCall call;
        try
        {
            call = XmlRpc.ParseCall(body);
        }
        catch (XmlException ex)
        {
            return Answer(XmlRpc.Fault(LockdFaults.Code, LockdFaults.NotWellFormed(ex.Message)));
        }
        catch (XmlRpcFormatException ex)
        {
            return Answer(XmlRpc.Fault(LockdFaults.Code, LockdFaults.NotACall(ex.Message)));
        }
        // lockd's names all live under its prefix: lock and unlock need the lock right on that subtree.
        if (call.Method is "lock" or "unlock"
            && await Access.CheckAsync(context, Right.Lock, PathScope.Under(service.Prefix)) is { } denial)
        {
            return Answer(XmlRpc.Fault(LockdFaults.Code, $"{denial.Code}: {denial.Detail}"));
        }
        object? value;
        string? fault;
        try
        {
            (value, fault) = await service.CallAsync(call, host, Caller.NameOf(context));
        }
        catch (Limits.QuotaExceededException ex)
        {
            (value, fault) = (null, $"{ex.Code}: {ex.Message}");
        }
        return Answer(fault is null ? XmlRpc.Response(value) : XmlRpc.Fault(LockdFaults.Code, fault));
    }

    private static IResult Answer(string xml) => Results.Text(xml, XmlRpc.ContentType, System.Text.Encoding.UTF8);
}
