using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CsCheck;
using Leasehold.Fuzz.Generators;
using Leasehold.Fuzz.Harness;
using Leasehold.Protocol;

namespace Leasehold.Fuzz.Targets;

/// <summary>
/// Every format through the real server over loopback sockets: JSON bodies to each JSON route, XML-RPC bodies to
/// lockd's endpoint, datagrams to the idserver UDP port and streams to its TCP port. No answer may be a 5xx, every
/// datagram and line gets a JSON reply, and every so often (and at the end) the server must answer
/// <c>/healthz</c> and its held paths must keep the lock invariants.
/// </summary>
public static class EndToEndTarget
{
    public const string Name = "end-to-end";

    /// <summary>Inputs between two checks of health and invariants.</summary>
    private const int CheckEvery = 100;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public static FuzzTarget<EndToEndInput> Create() => new(
        Name,
        "all of the above through the real server on loopback: HTTP JSON routes, XML-RPC, idserver UDP and TCP, with /healthz and the lock invariants checked",
        Inputs,
        () => new Checker(),
        i => i.ToString())
    {
        // An input here is real requests over loopback sockets to a server in the same process (and every hundredth
        // also checks health and the invariants): on a loaded two-core machine that can take seconds without anything
        // being stuck, so its budget is the client's own wait for an answer.
        DefaultBudget = Wait,
    };

    public static readonly Gen<EndToEndInput> Inputs = Gen.Frequency(
        (6, HttpJsonTarget.Inputs.Select(r => new EndToEndInput(Channel.Json, r.Route, r.Body))),
        (2, XmlText.Document.Select(b => new EndToEndInput(Channel.XmlRpc, JsonRoute.Acquire, b))),
        (1, IdServerText.Stream.Where(b => b.Length <= 8192).Select(b => new EndToEndInput(Channel.Datagram, JsonRoute.Acquire, b))),
        (1, IdServerText.Stream.Select(b => new EndToEndInput(Channel.Tcp, JsonRoute.Acquire, b))));

    internal sealed class Checker : IInputChecker<EndToEndInput>
    {
        private readonly LiveServer _server = LiveServer.StartAsync().GetAwaiter().GetResult();
        private readonly HttpClient _http;
        private readonly UdpClient _udp = new(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        private int _used;

        public Checker()
        {
            _http = new HttpClient { BaseAddress = _server.Http, Timeout = Wait };
        }

        public void Check(EndToEndInput input)
        {
            switch (input.Channel)
            {
                case Channel.Json:
                    Json(input.Route, input.Body);
                    break;
                case Channel.XmlRpc:
                    Send(HttpMethod.Post, _used % 2 == 0 ? "/RPC2" : "/", input.Body, "text/xml", null);
                    break;
                case Channel.Datagram:
                    Datagram(input.Body);
                    break;
                default:
                    Tcp(input.Body);
                    break;
            }
            if (++_used % CheckEvery == 0)
            {
                RequireHealthyAndConsistent();
            }
        }

        private void Json(JsonRoute route, byte[] body)
        {
            switch (route)
            {
                case JsonRoute.Acquire:
                    Send(HttpMethod.Post, "/v1/leases", body, "application/json", null, AsksToWait(body) ? WaitingAcquire : null);
                    break;
                case JsonRoute.Renew:
                    Send(HttpMethod.Post, $"/v1/leases/{1 + (_used % 50)}/renew", body, "application/json", new string((char)('0' + (_used % 10)), 32));
                    break;
                case JsonRoute.Session:
                    Send(HttpMethod.Post, "/v1/sessions", body, "application/json", null);
                    break;
                default:
                    Send(HttpMethod.Put, $"/v1/resources/pool/d{_used % 7}", body, "application/json", null);
                    break;
            }
        }

        /// <summary>
        /// An acquire that asks to wait is given up after this long, as a client with a shorter patience would:
        /// the server then drops its waiter. Waiting for it would hold the input for as long as the body asked
        /// (up to a day), which the watchdog would rightly call a hang.
        /// </summary>
        private static readonly TimeSpan WaitingAcquire = TimeSpan.FromSeconds(1);

        /// <summary>Whether the body is an acquire that asks to wait a second or more (a number in <c>wait</c>).</summary>
        private static bool AsksToWait(byte[] body)
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                return json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.EnumerateObject().Any(p => p.Name == "wait" && p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetDouble(out var wait) && wait >= 1);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                return false;
            }
        }

        private string Send(HttpMethod method, string path, byte[] body, string contentType, string? token, TimeSpan? giveUpAfter = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            if (token is not null)
            {
                request.Headers.Add("Leasehold-Token", token);
            }
            using var giveUp = new CancellationTokenSource(giveUpAfter ?? Wait);
            HttpResponseMessage answer;
            try
            {
                answer = _http.Send(request, giveUp.Token);
            }
            catch (TaskCanceledException) when (giveUpAfter is not null && giveUp.IsCancellationRequested)
            {
                return "";
            }
            using var response = answer;
            var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if ((int)response.StatusCode >= 500)
            {
                throw new FuzzCheckException($"{method} {path} answered {(int)response.StatusCode}: {text}");
            }
            return text;
        }

        private void Datagram(byte[] body)
        {
            _udp.Send(body, body.Length, _server.Udp);
            using var wait = new CancellationTokenSource(Wait);
            try
            {
                var reply = _udp.ReceiveAsync(wait.Token).AsTask().GetAwaiter().GetResult();
                RequireReply(Encoding.ASCII.GetString(reply.Buffer), "datagram");
            }
            catch (OperationCanceledException)
            {
                throw new FuzzCheckException($"no reply to a datagram within {Wait.TotalSeconds} s");
            }
        }

        private void Tcp(byte[] body)
        {
            using var socket = new Socket(System.Net.Sockets.AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = (int)Wait.TotalMilliseconds, SendTimeout = (int)Wait.TotalMilliseconds };
            socket.Connect(_server.Tcp);
            using var stream = new NetworkStream(socket, ownsSocket: false);
            try
            {
                stream.Write(body);
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (IOException)
            {
                // The server closed first: a line over the limit is answered and the connection closed at once.
            }
            using var replies = new MemoryStream();
            try
            {
                stream.CopyTo(replies);
            }
            catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
            {
                // Closed with our unread bytes still queued: the replies already read are what counts.
            }
            var lines = Encoding.ASCII.GetString(replies.ToArray()).Split('\n');
            foreach (var line in lines[..^1])
            {
                RequireReply(line, "line");
            }
            var expected = ExpectedLines(body);
            if (lines.Length - 1 != expected)
            {
                throw new FuzzCheckException($"{expected} lines were sent and {lines.Length - 1} replies came back");
            }
        }

        /// <summary>Complete lines the server reads before one over its limit ends the connection (which adds one reply).</summary>
        private static int ExpectedLines(byte[] body)
        {
            var count = 0;
            var start = 0;
            for (var i = 0; i < body.Length; i++)
            {
                if (body[i] == (byte)'\n')
                {
                    if (i - start > Server.Compat.IdServer.TcpFrontEnd.MaxLineBytes)
                    {
                        return count + 1;
                    }
                    count++;
                    start = i + 1;
                }
            }
            return body.Length - start > Server.Compat.IdServer.TcpFrontEnd.MaxLineBytes ? count + 1 : count;
        }

        private static void RequireReply(string reply, string what)
        {
            try
            {
                using var json = JsonDocument.Parse(reply);
                if (!json.RootElement.TryGetProperty("error", out var error) || error.GetInt32() is not (0 or 1))
                {
                    throw new FuzzCheckException($"the {what}'s reply has no error 0 or 1: {reply}");
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
                throw new FuzzCheckException($"the {what}'s reply is not a JSON object ({ex.Message}): {reply}");
            }
        }

        /// <summary>The server answers /healthz, and no path has holders that its mode and limit exclude.</summary>
        private void RequireHealthyAndConsistent()
        {
            using (var health = _http.GetAsync(new Uri("/healthz", UriKind.Relative)).GetAwaiter().GetResult())
            {
                if (!health.IsSuccessStatusCode)
                {
                    throw new FuzzCheckException($"/healthz answered {(int)health.StatusCode}");
                }
            }
            var text = _http.GetStringAsync(new Uri("/v1/resources?prefix=/&limit=10000", UriKind.Relative)).GetAwaiter().GetResult();
            var list = JsonSerializer.Deserialize(text, ProtocolJsonContext.Default.ResourceListDto)!;
            foreach (var resource in list.Resources)
            {
                var exclusive = resource.Holders.Where(h => h.Mode == "exclusive").ToArray();
                if (exclusive.Length == 0)
                {
                    continue;
                }
                var limit = exclusive.Max(h => h.Limit ?? 1);
                if (exclusive.Length != resource.Holders.Length || exclusive.Length > limit || exclusive.Any(h => (h.Limit ?? 1) != limit))
                {
                    throw new FuzzCheckException($"{resource.Path} has holders its lock excludes: {string.Join(", ", resource.Holders.Select(h => $"lease {h.Id} {h.Mode} limit {h.Limit}"))}");
                }
            }
        }

        public void Dispose()
        {
            try
            {
                RequireHealthyAndConsistent();
            }
            finally
            {
                _http.Dispose();
                _udp.Dispose();
                _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }
}
