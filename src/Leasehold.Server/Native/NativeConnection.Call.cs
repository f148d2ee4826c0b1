using Leasehold.Protocol;
using Leasehold.Server.Http;
using Leasehold.Protocol.Native;
using Microsoft.AspNetCore.Http.Features;

namespace Leasehold.Server.Native;

internal sealed partial class NativeConnection
{
    /// <summary>
    /// CALL: one HTTP request through the application's own pipeline, in process, as this connection's caller
    /// (its credential as a bearer header, its TLS client certificate, its address): the same routes, rights,
    /// limits and problem documents as HTTP, by construction. <paramref name="aborted"/> is the request's
    /// <c>RequestAborted</c>: a CANCEL of it, or the connection closing, ends a request that waits as a client
    /// going away ends an HTTP one.
    /// </summary>
    private async Task CallAsync(uint id, CallMessage message, CancellationToken aborted)
    {
        try
        {
            if (shared.Pipeline.Next is not { } pipeline)
            {
                Fail(id, ErrorCodes.ShuttingDown, 503, "the HTTP pipeline is not running");
                return;
            }
            if (message.Target.Length == 0 || message.Target[0] != '/')
            {
                Fail(id, ErrorCodes.InvalidArgument, 400, "target is a path and query starting with '/'");
                return;
            }
            if (message.Body is { } sent && sent.Length > shared.MaxRequestBytes)
            {
                WriteResult(id, Problems.Create(ErrorCodes.PayloadTooLarge, $"the body is over {shared.MaxRequestBytes} bytes (Leasehold:MaxRequestBytes)"));
                return;
            }
            await using var scope = shared.Services.CreateAsyncScope();
            var query = message.Target.IndexOf('?', StringComparison.Ordinal);
            var request = new HttpRequestFeature
            {
                Method = message.Method,
                Scheme = connection.Features.Get<ITlsConnectionFeature>() is null ? "http" : "https",
                Protocol = "HTTP/1.1",
                PathBase = "",
                Path = Uri.UnescapeDataString(query < 0 ? message.Target : message.Target[..query]),
                QueryString = query < 0 ? "" : message.Target[query..],
                RawTarget = message.Target,
                Body = message.Body is null ? Stream.Null : new MemoryStream(message.Body, writable: false),
            };
            request.Headers.Host = connection.LocalEndPoint?.ToString() ?? "localhost";
            if (message.Body is { } body)
            {
                request.Headers.ContentLength = body.Length;
                request.Headers.ContentType = "application/json";
            }
            if (_credential is { } credential)
            {
                request.Headers.Authorization = "Bearer " + credential;
            }
            // Bounded: an answer over a frame is refused below, and nothing beyond a frame is kept meanwhile.
            using var responseBody = new CappedBody(shared.Options.MaxFrameBytes);
            var response = new HttpResponseFeature();
            var features = new FeatureCollection();
            features.Set<IHttpRequestFeature>(request);
            features.Set<IHttpResponseFeature>(response);
            features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(responseBody));
            features.Set(NativeCall.Instance);
            features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = aborted });
            var remote = connection.RemoteEndPoint as System.Net.IPEndPoint;
            var local = connection.LocalEndPoint as System.Net.IPEndPoint;
            features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
            {
                ConnectionId = connection.ConnectionId,
                RemoteIpAddress = remote?.Address,
                RemotePort = remote?.Port ?? 0,
                LocalIpAddress = local?.Address,
                LocalPort = local?.Port ?? 0,
            });
            if (connection.Features.Get<ITlsConnectionFeature>() is { } tls)
            {
                features.Set(tls);
            }
            var context = new DefaultHttpContext(features) { RequestServices = scope.ServiceProvider };
            await pipeline(context).ConfigureAwait(false);
            var status = context.Response.StatusCode;
            if (aborted.IsCancellationRequested && NativeCall.WasGivenUp(context))
            {
                // Cancelled, and the route gave up (a waiting acquire has left its queue): no answer but this. What
                // finished anyway (a grant that won the race, a release) is answered as it is: it took effect.
                Fail(id, NativeProtocol.Cancelled, 499, "cancelled by CANCEL");
                return;
            }
            if (status is StatusCodes.Status307TemporaryRedirect or StatusCodes.Status308PermanentRedirect && shared.Node is not null)
            {
                // A follower sends a caller named by its client certificate to the leader's HTTP address (the certificate
                // cannot travel with a forwarded request): natively that is the usual no-leader naming the leader's native URL.
                await NoLeaderAsync(id, "this node does not lead, and a caller named by its client certificate is not forwarded: send the CALL to the leader").ConfigureAwait(false);
                return;
            }
            var result = new ResultMessage((ushort)status, context.Response.ContentType, responseBody.ToArray());
            if (responseBody.Overflowed || result.PayloadSize + NativeProtocol.MinLength > shared.Options.MaxFrameBytes)
            {
                Fail(id, NativeProtocol.FrameTooLarge, 413, $"the answer is larger than a frame ({shared.Options.MaxFrameBytes} bytes, Leasehold:Native:MaxFrameBytes); ask for less (limit)");
                return;
            }
            lock (_write)
            {
                if (!_dead)
                {
                    NativeFrames.Write(_output, id, result);
                }
            }
            End(id);
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    private void WriteResult(uint id, ProblemDto problem)
    {
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(problem, ProtocolJsonContext.Default.ProblemDto);
        lock (_write)
        {
            if (!_dead)
            {
                NativeFrames.Write(_output, id, new ResultMessage((ushort)problem.Status, ProblemDto.ContentType, body));
            }
        }
        End(id);
    }
}
