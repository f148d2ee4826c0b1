using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Server.Tests;

/// <summary>A lease as the tests need it: what identifies it and proves holding it.</summary>
public sealed record Held(long Id, string Token, long Fence);

/// <summary>
/// One fresh real server per test (started in <see cref="InitializeAsync"/>, stopped and its data
/// directory deleted in <see cref="DisposeAsync"/>) and short ways to talk to it over HTTP.
/// </summary>
public abstract class ServerTestBase : IAsyncLifetime
{
    private TestServer? _server;

    protected TestServer Server => _server ?? throw new InvalidOperationException("the server is not started");

    protected HttpClient Client => Server.Client;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    protected static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    protected Task<HttpResponseMessage> PostAsync(string url, string? json, HttpClient? client = null, CancellationToken cancellationToken = default)
        => (client ?? Client).PostAsync(new Uri(url, UriKind.Relative), json is null ? null : Json(json), cancellationToken);

    protected Task<HttpResponseMessage> GetAsync(string url) => Client.GetAsync(new Uri(url, UriKind.Relative));

    /// <summary>A request carrying <paramref name="token"/> in the Leasehold-Token header (none when null).</summary>
    protected Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string? token, string? json = null)
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
        return Client.SendAsync(request);
    }

    protected Task<HttpResponseMessage> AcquireAsync(string? json, HttpClient? client = null, CancellationToken cancellationToken = default)
        => PostAsync("/v1/leases", json, client, cancellationToken);

    /// <summary>Acquires and asserts it was granted (201).</summary>
    protected async Task<Held> AcquireOkAsync(string json, HttpClient? client = null)
    {
        using var response = await AcquireAsync(json, client);
        return ToHeld(await ReadJsonAsync(response, HttpStatusCode.Created));
    }

    protected static Held ToHeld(JsonElement lease)
        => new(lease.GetProperty("id").GetInt64(), lease.GetProperty("token").GetString()!, lease.GetProperty("fence").GetInt64());

    /// <summary>Asserts a JSON success answer with <paramref name="status"/> and returns its body.</summary>
    protected static Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode status) => HttpAssert.ReadJsonAsync(response, status);

    protected static JsonElement Parse(string text) => HttpAssert.Parse(text);

    /// <summary>Asserts a problem+json answer with the status and code of the catalogue; returns its body.</summary>
    protected static Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
        => HttpAssert.AssertProblemAsync(response, status, code);

    protected async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await GetAsync(url);
        return await ReadJsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary><c>GET /v1/resources{routePath}</c>; <paramref name="routePath"/> is already percent-encoded.</summary>
    protected Task<JsonElement> GetResourceAsync(string routePath) => GetJsonAsync("/v1/resources" + routePath);

    protected static long[] HolderIds(JsonElement resourceOrProblem)
        => [.. resourceOrProblem.GetProperty("holders").EnumerateArray().Select(h => h.GetProperty("id").GetInt64())];

    protected static string[] QueueOwners(JsonElement resource)
        => [.. resource.GetProperty("queue").EnumerateArray().Select(w => w.GetProperty("owner").GetString() ?? "(none)")];

    protected async Task<HttpResponseMessage> ReleaseAsync(Held lease)
        => await SendAsync(HttpMethod.Delete, $"/v1/leases/{lease.Id}", lease.Token);

    protected async Task ReleaseOkAsync(Held lease)
    {
        using var response = await ReleaseAsync(lease);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>The server answers and <paramref name="lease"/> is still held, on every one of its paths.</summary>
    protected async Task AssertStillHeldAsync(Held lease, params string[] routePaths)
    {
        var health = await GetJsonAsync("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        var got = await GetJsonAsync($"/v1/leases/{lease.Id}");
        Assert.Equal(lease.Fence, got.GetProperty("fence").GetInt64());
        foreach (var routePath in routePaths)
        {
            Assert.Contains(lease.Id, HolderIds(await GetResourceAsync(routePath)));
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails after <paramref name="timeout"/> (default <see cref="TestServer.Timeout"/>).</summary>
    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? TestServer.Timeout;
        while (!await condition())
        {
            Assert.True(clock.Elapsed < limit, $"timed out after {limit.TotalSeconds} s waiting until {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Waits until <paramref name="routePath"/> has <paramref name="length"/> waiters, the first of them queued for a few
    /// milliseconds: the server counts in milliseconds, so a waiter granted within the millisecond it queued rightly
    /// waited 0 s, and a test that then checks a wait was counted would fail (seen in a clean-clone run).
    /// </summary>
    protected Task WaitForQueueAsync(string routePath, int length)
        => WaitUntilAsync(async () => (await GetResourceAsync(routePath)).GetProperty("queue") is var queue
                && queue.GetArrayLength() == length
                && (length == 0 || DateTimeOffset.UtcNow - queue[0].GetProperty("since").GetDateTimeOffset() >= TimeSpan.FromMilliseconds(5)),
            $"{routePath} has {length} waiter(s), the first queued for 5 ms");

    /// <summary>
    /// Runs a timing-sensitive scenario up to three times. An attempt returns false when a precondition
    /// it does not control failed (a sub-second ttl ran out before the scenario was set up, on a busy
    /// machine); its assertions about the server still fail the test at once.
    /// </summary>
    protected static async Task WithRetriesAsync(Func<int, Task<bool>> attempt, string precondition)
    {
        for (var i = 0; i < 3; i++)
        {
            if (await attempt(i))
            {
                return;
            }
        }
        Assert.Fail($"three attempts and the precondition never held: {precondition}");
    }

    /// <summary>Bounds a pending request: its answer, or a failure after <see cref="TestServer.Timeout"/>.</summary>
    protected static Task<T> Bounded<T>(Task<T> task) => task.WaitAsync(TestServer.Timeout);
}
