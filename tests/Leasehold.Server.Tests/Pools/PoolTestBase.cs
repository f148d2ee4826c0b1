using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Server.Tests.Pools;

/// <summary>
/// The real server in process (see <see cref="TestServer"/>) for pool tests, with a work directory of its
/// own holding the data directory and any resource files, so a test can write a file before the server
/// starts, start it with pool arguments, and restart it on the same data. The directory is deleted on dispose.
/// </summary>
public abstract class PoolTestBase : IAsyncLifetime
{
    /// <summary>How soon after the event that frees a resource a waiting request must be answered.</summary>
    protected static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2);

    private TestServer? _server;
    private IReadOnlyList<string> _args = [];

    protected string WorkDir { get; } = Path.Combine(Path.GetTempPath(), "leasehold-pools-" + Guid.NewGuid().ToString("N"));

    protected string DataDir => Path.Combine(WorkDir, "data");

    protected TestServer Server => _server ?? throw new InvalidOperationException("the server is not started");

    protected HttpClient Client => Server.Client;

    /// <summary>Whether <see cref="InitializeAsync"/> starts a server without pool arguments; false: each test calls <see cref="StartAsync"/>.</summary>
    protected virtual bool StartsAtOnce => true;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(WorkDir);
        if (StartsAtOnce)
        {
            await StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        if (Directory.Exists(WorkDir))
        {
            Directory.Delete(WorkDir, recursive: true);
        }
    }

    /// <summary>Starts the server on <see cref="DataDir"/> with <paramref name="args"/> (e.g. <c>--pool /lab --resources FILE</c>).</summary>
    protected async Task StartAsync(params string[] args)
    {
        Assert.Null(_server);
        _args = args;
        _server = await TestServer.StartAsync(args, DataDir);
    }

    /// <summary>Stops the server and starts a new one on the same data directory with the same arguments.</summary>
    protected async Task RestartAsync()
    {
        await Server.DisposeAsync();
        _server = null;
        _server = await TestServer.StartAsync(_args, DataDir);
    }

    /// <summary>Writes a file in the work directory and returns its full path.</summary>
    protected string WriteFile(string name, string text)
    {
        var path = Path.Combine(WorkDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    protected static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    protected Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string? json = null, string? token = null, HttpClient? client = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(method, new Uri(url, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation(Headers.Token, token);
        }
        if (json is not null)
        {
            request.Content = Json(json);
        }
        return (client ?? Client).SendAsync(request, cancellationToken);
    }

    protected Task<HttpResponseMessage> GetAsync(string url) => SendAsync(HttpMethod.Get, url);

    protected async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await GetAsync(url);
        return await ReadJsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary><c>PUT /v1/resources{path}</c>, asserting 200; returns the answer.</summary>
    protected async Task<JsonElement> DeclareAsync(string path, string attributes)
    {
        using var response = await SendAsync(HttpMethod.Put, "/v1/resources" + path, attributes);
        return await ReadJsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary>The declared attributes of <paramref name="path"/> as <c>GET /v1/resources{path}</c> shows them (null: not declared).</summary>
    protected async Task<JsonElement?> AttributesAsync(string path)
    {
        var resource = await GetJsonAsync("/v1/resources" + path);
        var attributes = resource.GetProperty("attributes");
        return attributes.ValueKind == JsonValueKind.Null ? null : attributes;
    }

    protected Task<HttpResponseMessage> AcquireAsync(string json, HttpClient? client = null, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Post, "/v1/leases", json, client: client, cancellationToken: cancellationToken);

    /// <summary>Acquires, asserting 201; returns the lease.</summary>
    protected async Task<JsonElement> AcquireOkAsync(string json, HttpClient? client = null)
    {
        using var response = await AcquireAsync(json, client);
        return await ReadJsonAsync(response, HttpStatusCode.Created);
    }

    /// <summary>Acquires, asserting the problem; returns it.</summary>
    protected async Task<JsonElement> AcquireFailsAsync(string json, HttpStatusCode status, string code)
    {
        using var response = await AcquireAsync(json);
        return await AssertProblemAsync(response, status, code);
    }

    protected async Task ReleaseOkAsync(JsonElement lease)
    {
        using var response = await SendAsync(HttpMethod.Delete, $"/v1/leases/{Id(lease)}", token: lease.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    protected static long Id(JsonElement lease) => lease.GetProperty("id").GetInt64();

    protected static string[] Paths(JsonElement lease) => [.. lease.GetProperty("paths").EnumerateArray().Select(p => p.GetString()!)];

    /// <summary>The chosen resources of a pool lease: path, group and attributes.</summary>
    protected static (string Path, int Group, JsonElement Attributes)[] Chosen(JsonElement lease)
        => [.. lease.GetProperty("resources").EnumerateArray().Select(r => (r.GetProperty("path").GetString()!, r.GetProperty("group").GetInt32(), r.GetProperty("attributes")))];

    protected async Task<long[]> HolderIdsAsync(string path)
        => [.. (await GetJsonAsync("/v1/resources" + path)).GetProperty("holders").EnumerateArray().Select(h => h.GetProperty("id").GetInt64())];

    protected async Task<int> QueueLengthAsync(string path)
        => (await GetJsonAsync("/v1/resources" + path)).GetProperty("queue").GetArrayLength();

    protected async Task<JsonElement> StatsAsync() => await GetJsonAsync("/v1/stats");

    /// <summary>Waits until the server has exactly <paramref name="count"/> waiting requests.</summary>
    protected Task WaitForWaitersAsync(int count)
        => WaitUntilAsync(async () => (await StatsAsync()).GetProperty("waiters").GetInt32() == count, $"{count} request(s) wait");

    /// <summary>py-lockable's resource list of <paramref name="pool"/>, keyed by each object's id as text.</summary>
    protected async Task<Dictionary<string, JsonElement>> ResourceListAsync(string pool)
    {
        var list = await GetJsonAsync($"/v1/pools{pool}/resources.json");
        Assert.Equal(JsonValueKind.Array, list.ValueKind);
        return ById(list);
    }

    /// <summary>Asserts that nothing is declared at or under <paramref name="pool"/> (and it is not configured): its list is 404.</summary>
    protected async Task AssertNoPoolAsync(string pool)
    {
        using var response = await GetAsync($"/v1/pools{pool}/resources.json");
        await AssertProblemAsync(response, System.Net.HttpStatusCode.NotFound, "not-found");
    }

    /// <summary>A JSON array of objects keyed by their ids (a string as is, a number as written); fails on a duplicate.</summary>
    protected static Dictionary<string, JsonElement> ById(JsonElement array)
    {
        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var item in array.EnumerateArray())
        {
            var id = item.GetProperty("id");
            var key = id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText();
            Assert.True(result.TryAdd(key, item), $"id {key} appears twice in {array}");
        }
        return result;
    }

    protected static void AssertJsonEqual(string expected, JsonElement actual)
        => AssertJsonEqual(Parse(expected), actual);

    protected static void AssertJsonEqual(JsonElement expected, JsonElement actual)
        => Assert.True(JsonElement.DeepEquals(expected, actual), $"expected {expected}, got {actual}");

    /// <summary>Asserts a JSON success answer with <paramref name="status"/> and returns its body.</summary>
    protected static Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode status) => HttpAssert.ReadJsonAsync(response, status);

    protected static JsonElement Parse(string text) => HttpAssert.Parse(text);

    /// <summary>Asserts a problem+json answer with the status and code of the catalogue; returns its body.</summary>
    protected static Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
        => HttpAssert.AssertProblemAsync(response, status, code);

    protected static string Detail(JsonElement problem) => problem.GetProperty("detail").GetString() ?? "";

    /// <summary>Polls until <paramref name="condition"/> holds; fails after <see cref="TestServer.Timeout"/>.</summary>
    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TestServer.Timeout, $"timed out after {TestServer.Timeout.TotalSeconds} s waiting until {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>Bounds a pending request: its answer, or a failure after <see cref="TestServer.Timeout"/>.</summary>
    protected static Task<T> Bounded<T>(Task<T> task) => task.WaitAsync(TestServer.Timeout);
}
