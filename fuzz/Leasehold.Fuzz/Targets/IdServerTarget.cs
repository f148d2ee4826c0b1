using System.Buffers;
using System.Net;
using System.Text.Json;
using Leasehold.Core;
using Leasehold.Fuzz.Generators;
using Leasehold.Fuzz.Harness;
using Leasehold.Server.Compat.IdServer;
using Leasehold.Server.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Fuzz.Targets;

/// <summary>
/// idserver datagrams and TCP lines in process: the bytes as one datagram, and cut into lines at each newline
/// as the TCP front-end cuts them, each handled by <see cref="IdServerProtocol"/> on the real writer. Every reply
/// must be one line of ASCII JSON, an object whose <c>error</c> is 0 or 1, and nothing may be logged as a failure.
/// </summary>
public static class IdServerTarget
{
    public const string Name = "idserver";

    public static FuzzTarget<byte[]> Create() => new(
        Name,
        "idserver requests as UDP datagrams and as TCP streams cut into lines, handled on the writer against an id pool",
        IdServerText.Stream,
        () => new Checker(),
        Printing.Text);

    internal sealed class Checker : IInputChecker<byte[]>
    {
        private const int InputsPerHost = 5_000;

        // Security off, as a server without security settings runs: the target fuzzes the protocol, not the rules.
        private static readonly Lazy<Leasehold.Server.Security.SecurityState> OpenSecurity = new(() => new(
            new ServiceCollection().AddOptions().BuildServiceProvider()
                .GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Leasehold.Server.Security.SecurityOptions>>(),
            enabled: false, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        private static readonly ResourcePath Pool = EngineFixture.Path("/ids");
        private readonly RecordingLogger<IdServerProtocol> _logger = new();
        private EngineHost _host = null!;
        private IdServerProtocol _protocol = null!;
        private int _used;

        public Checker() => Reset();

        private void Reset()
        {
            _host?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _host = MemoryHost.Create(EngineFixture.Create(Pool, EngineFixture.T0));
            _protocol = new IdServerProtocol(_host, new IdServerSettings(Pool, IPAddress.Loopback, false, 0), OpenSecurity.Value, _logger);
        }

        public void Check(byte[] input)
        {
            if (++_used % InputsPerHost == 0)
            {
                Reset();
            }
            if (input.Length <= UdpFrontEnd.MaxRequestBytes)
            {
                Require(_protocol.HandleAsync(new ReadOnlySequence<byte>(input)).GetAwaiter().GetResult(), "datagram");
            }
            // As the TCP front-end reads a stream: a line per newline; a last line without one is no request.
            var rest = new ReadOnlySequence<byte>(input);
            while (rest.PositionOf((byte)'\n') is { } end)
            {
                var line = rest.Slice(0, end);
                rest = rest.Slice(rest.GetPosition(1, end));
                if (line.Length > TcpFrontEnd.MaxLineBytes)
                {
                    break;
                }
                Require(_protocol.HandleAsync(line).GetAwaiter().GetResult(), "line");
            }
            if (_logger.Problems.TryDequeue(out var logged))
            {
                throw new FuzzCheckException("the front-end logged a failure: " + logged);
            }
        }

        private static void Require(string reply, string what)
        {
            if (reply.Any(c => c is < ' ' or > '~'))
            {
                throw new FuzzCheckException($"the {what}'s reply is not one line of printable ASCII: {reply}");
            }
            try
            {
                using var json = JsonDocument.Parse(reply);
                if (json.RootElement.ValueKind != JsonValueKind.Object
                    || !json.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Number || error.GetInt32() is not (0 or 1))
                {
                    throw new FuzzCheckException($"the {what}'s reply is not an object with error 0 or 1: {reply}");
                }
            }
            catch (JsonException ex)
            {
                throw new FuzzCheckException($"the {what}'s reply is not JSON ({ex.Message}): {reply}");
            }
        }

        public void Dispose() => _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
