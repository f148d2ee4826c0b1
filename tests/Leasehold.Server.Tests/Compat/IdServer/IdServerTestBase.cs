using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Leasehold.Server.Compat.IdServer;
using Leasehold.Server.Tests.Pools;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>
/// The real server in process with the id pool <c>/ids/x</c> (<c>name-0..name-2</c> unless a test says
/// otherwise) served by the idserver front-end on free ports, and the Python client run against it.
/// </summary>
public abstract class IdServerTestBase : IAsyncLifetime
{
    public const string Pool = "/ids/x";

    private TestServer? _server;

    protected string WorkDir { get; } = Path.Combine(Path.GetTempPath(), "leasehold-idserver-" + Guid.NewGuid().ToString("N"));

    protected string ScriptPath => Path.Combine(WorkDir, "idclient.py");

    protected TestServer Server => _server ?? throw new InvalidOperationException("the server is not started");

    /// <summary>The bound ports, as the front-end publishes them.</summary>
    protected IdServerEndpoints Endpoints => Server.App.Services.GetRequiredService<IdServerEndpoints>();

    /// <summary>Whether <see cref="InitializeAsync"/> starts the server with <see cref="Args"/>; false: each test calls <see cref="StartAsync"/>.</summary>
    protected virtual bool StartsAtOnce => true;

    /// <summary>The pool <c>/ids/x</c> with <paramref name="ids"/>, served on port 0 (and <paramref name="more"/> settings).</summary>
    public static string[] Args(string ids = "name-0..name-2", params string[] more) =>
    [
        $"--Leasehold:Pools:0:Path={Pool}", $"--Leasehold:Pools:0:Ids={ids}",
        $"--Leasehold:IdServer:Pool={Pool}", "--Leasehold:IdServer:Port=0", .. more,
    ];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(WorkDir);
        await File.WriteAllTextAsync(ScriptPath, IdClientScript.Text);
        if (StartsAtOnce)
        {
            await StartAsync(Args());
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        Directory.Delete(WorkDir, recursive: true);
    }

    protected async Task StartAsync(params string[] args)
    {
        Assert.Null(_server);
        _server = await TestServer.StartAsync(args, Path.Combine(WorkDir, "data"));
    }

    /// <summary>One op for the Python client: <c>Op("get", owner, expire)</c>, <c>Op("raw", text)</c>, …</summary>
    protected static JsonArray Op(params JsonNode?[] items) => new(items);

    protected Task<JsonElement[]> RunAsync(string transport, params JsonArray[] ops) => RunOnAsync(transport, "127.0.0.1", ops);

    /// <summary>Runs the Python client (python3 must be on PATH, or the test fails saying so) and returns one result per op.</summary>
    protected async Task<JsonElement[]> RunOnAsync(string transport, string host, params JsonArray[] ops)
    {
        var endPoint = transport switch
        {
            "udp" => Endpoints.Udp,
            "tcp" => Endpoints.Tcp,
            _ => throw new ArgumentException("udp or tcp", nameof(transport)),
        };
        Assert.NotNull(endPoint);
        var port = endPoint.Port.ToString(CultureInfo.InvariantCulture);
        var result = await ChildProcess.RunAsync("python3", [ScriptPath, transport, host, port, new JsonArray(ops).ToJsonString()], WorkDir);
        Assert.True(result.ExitCode == 0, $"the Python idserver client failed: {result}");
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == ops.Length, $"expected {ops.Length} result lines: {result}");
        return [.. lines.Select(Parse)];
    }

    /// <summary>Asserts the exact reply text; over TCP it must have ended with its newline.</summary>
    protected static void AssertReply(string transport, string expected, JsonElement result)
    {
        Assert.True(result.TryGetProperty("reply", out var reply), $"no reply in {result}");
        Assert.Equal(expected, reply.GetString());
        Assert.Equal(transport == "tcp", result.GetProperty("newline").GetBoolean());
    }

    /// <summary>The id a get answered (the client's <c>acquire</c> return value); fails on an error.</summary>
    protected static string Value(JsonElement result)
    {
        Assert.True(result.TryGetProperty("value", out var value), $"expected an id, got {result}");
        return value.GetString()!;
    }

    /// <summary>The message of the <c>RuntimeError</c> the client raised.</summary>
    protected static string Error(JsonElement result)
    {
        Assert.True(result.TryGetProperty("error", out var error), $"expected an error, got {result}");
        return error.GetString()!;
    }

    protected static double Time(JsonElement result) => result.GetProperty("t").GetDouble();

    protected async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await Server.Client.GetAsync(new Uri(url, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {text}");
        return Parse(text);
    }

    /// <summary>The holders of <c>/ids/x/{id}</c> as <c>GET /v1/resources</c> shows them.</summary>
    protected async Task<JsonElement[]> HoldersAsync(string id)
        => [.. (await GetJsonAsync($"/v1/resources{Pool}/{Uri.EscapeDataString(id)}")).GetProperty("holders").EnumerateArray()];

    protected async Task<int> LeaseCountAsync() => (await GetJsonAsync("/v1/stats")).GetProperty("leases").GetInt32();

    protected static JsonElement Parse(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
