using System.Net;
using Leasehold.Server.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Leasehold.Server.Cluster;

/// <summary>
/// The front door of a follower: every request that reads or changes lock state is forwarded to the leader
/// over HTTP (YARP's forwarder), so any node serves the HTTP API, Locker and gocept.lockd alike and a client
/// that knows one node knows them all. Health, readiness and this node's own cluster status answer locally.
/// A request is forwarded at most once (a node that receives a forwarded request it cannot serve answers
/// 503 <c>no-leader</c> rather than pass it on again). A caller authenticated by a client certificate is
/// redirected instead (307 to the leader's URL), since its certificate cannot travel with a forwarded request.
/// A forward ends when the leader changes (a frozen or deposed leader may never answer): the caller gets 503
/// <c>no-leader</c> and retries, as when the leader dies.
/// </summary>
internal static class LeaderForwarding
{
    /// <summary>Set on a forwarded request: the Raft endpoint of the node that forwarded it.</summary>
    public const string ForwardedHeader = "Leasehold-Forwarded-By";

    public static void UseLeaderForwarding(this WebApplication app, RaftNode node)
    {
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            ActivityHeadersPropagator = null,
        };
        if (app.Services.GetRequiredService<ClusterSetup.ForwardingTrust>().Tls is { } tls)
        {
            // An https leader whose certificate comes from the cluster's authority is trusted as the system's roots are.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => tls.TrustsServer(certificate, errors);
        }
        var invoker = new HttpMessageInvoker(handler);
        // A wait for a lock may last as long as the request allows (hours): the forwarder must not cut it.
        var config = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromDays(1) };
        app.Use(async (context, next) =>
        {
            if (node.Serving || IsLocal(context.Request))
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            if (context.Request.Headers.ContainsKey(ForwardedHeader))
            {
                await ErrorHandling.NoLeaderAsync(context, "this node received a forwarded request but does not lead (the leadership is changing); retry").ConfigureAwait(false);
                return;
            }
            // Taken before the leader is looked up: a change after that ends this forward.
            var leaderView = node.LeaderViewToken;
            var url = await node.LeaderUrlAsync(context.RequestAborted).ConfigureAwait(false);
            if (url is null)
            {
                if (node.Cluster.Leader is { IsRemote: false })
                {
                    // Elected but still taking over: the writer answers no-leader until it has.
                    await next(context).ConfigureAwait(false);
                    return;
                }
                await ErrorHandling.NoLeaderAsync(context, "no cluster leader is elected right now; retry").ConfigureAwait(false);
                return;
            }
            if (context.Connection.ClientCertificate is not null)
            {
                context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                context.Response.Headers.Location = url.TrimEnd('/') + context.Request.PathBase + context.Request.Path + context.Request.QueryString;
                return;
            }
            context.Request.Headers[ForwardedHeader] = node.LocalEndPoint.ToString();
            // A client that has the leader in its list of servers can skip this hop from now on.
            context.Response.OnStarting(() =>
            {
                if (context.Response.StatusCode < StatusCodes.Status500InternalServerError)
                {
                    context.Response.Headers[Protocol.Headers.Leader] = url;
                }
                return Task.CompletedTask;
            });
            var error = await forwarder.SendAsync(context, url, invoker, config, HttpTransformer.Default, leaderView).ConfigureAwait(false);
            if (error != ForwarderError.None && context.RequestAborted.IsCancellationRequested)
            {
                // The caller went away (a cancelled native CALL): the forward was cut for it.
                Native.NativeCall.GaveUp(context);
            }
            if (error != ForwarderError.None && !context.Response.HasStarted)
            {
                await ErrorHandling.NoLeaderAsync(context, leaderView.IsCancellationRequested
                    ? $"the leader changed while this request was forwarded to {url}; retry (an acquire with its idempotency key gets the lease it may have been granted)"
                    : $"the leader at {url} could not be reached ({error}); retry").ConfigureAwait(false);
            }
        });
    }

    private static bool IsLocal(HttpRequest request)
        => request.Path.StartsWithSegments("/healthz") || request.Path.StartsWithSegments("/readyz")
            || request.Path.StartsWithSegments("/openapi")
            // Each node's own metrics (its requests, its log): a scrape of a follower is not the leader's.
            || request.Path.StartsWithSegments(Metrics.MetricsSetup.Path)
            || (HttpMethods.IsGet(request.Method) && request.Path.Equals("/v1/cluster", StringComparison.Ordinal));
}
