using System.Xml;
using Leasehold.Core;
using Leasehold.Server.Engine;
using Leasehold.Server.Http;

namespace Leasehold.Server.Compat;

/// <summary>
/// gocept.lockd's XML-RPC endpoint at <c>POST /</c> and <c>POST /RPC2</c>, so lockd clients work unchanged:
/// see docs/compat/lockd.md. Every failure, a malformed request included, is a fault with faultCode 1.
/// </summary>
internal static class LockdEndpoints
{
    /// <summary>Configuration switch (default true).</summary>
    public const string EnabledKey = "Leasehold:Lockd:Enabled";

    /// <summary>The path under which resource names live (default <see cref="DefaultPrefix"/>).</summary>
    public const string PrefixKey = "Leasehold:Lockd:Prefix";

    public const string DefaultPrefix = "/lockd";

    public static void Map(WebApplication app)
    {
        if (!app.Configuration.GetValue(EnabledKey, true))
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
            app.MapPost(route, (HttpContext context, EngineHost host) => HandleAsync(context, host, service)).ExcludeFromDescription();
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
        var (value, fault) = await service.CallAsync(call, host);
        return Answer(fault is null ? XmlRpc.Response(value) : XmlRpc.Fault(LockdFaults.Code, fault));
    }

    private static IResult Answer(string xml) => Results.Text(xml, XmlRpc.ContentType, System.Text.Encoding.UTF8);
}
