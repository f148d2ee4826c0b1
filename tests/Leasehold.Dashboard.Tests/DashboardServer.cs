using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Leasehold.Server.Security;
using Microsoft.AspNetCore.Builder;

namespace Leasehold.Dashboard.Tests;

/// <summary>A lease the tests took: what identifies it and proves holding it.</summary>
public sealed record Held(long Id, string Token);

/// <summary>
/// The real server, in process, on a free loopback port with a fresh data directory (deleted on dispose), as
/// the server tests start it; the browser and the tests' own HTTP client reach it over real sockets.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    /// <summary>The bound on every single wait in these tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly string _dataDir;
    private readonly string? _settingsDir;

    private DashboardServer(WebApplication app, string dataDir, string? settingsDir, string? apiKey)
    {
        App = app;
        _dataDir = dataDir;
        _settingsDir = settingsDir;
        ApiKey = apiKey;
        BaseAddress = new Uri(app.Urls.Single());
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = Timeout };
        if (apiKey is not null)
        {
            Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    /// <summary>A client for the test's own requests (with <see cref="ApiKey"/> when security is on).</summary>
    public HttpClient Client { get; }

    /// <summary>With security on: a key of a principal with every right on every path.</summary>
    public string? ApiKey { get; }

    public static Task<DashboardServer> StartAsync(params string[] extraArgs) => StartAsync(secured: false, extraArgs);

    /// <summary>
    /// Starts the server; <paramref name="secured"/> turns security on with one API key (<see cref="ApiKey"/>)
    /// whose principal may read, lock, declare and administer everything, and nothing for anonymous callers.
    /// </summary>
    public static async Task<DashboardServer> StartAsync(bool secured, params string[] extraArgs)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-dash-" + Guid.NewGuid().ToString("N"));
        string? settingsDir = null;
        string? key = null;
        var args = new List<string> { "--urls", "http://127.0.0.1:0", "--data-dir", dataDir, "--Logging:LogLevel:Default=Warning" };
        if (secured)
        {
            settingsDir = dataDir + "-settings";
            Directory.CreateDirectory(settingsDir);
            key = ApiKeys.Create("viewer-key");
            var settings = new JsonObject
            {
                ["Leasehold"] = new JsonObject
                {
                    ["Security"] = new JsonObject
                    {
                        ["ApiKeys"] = new JsonObject { ["viewer-key"] = new JsonObject { ["Hash"] = ApiKeys.Hash(key), ["Principal"] = "viewer" } },
                        ["Rules"] = new JsonArray(new JsonObject
                        {
                            ["Who"] = new JsonArray("viewer"),
                            ["Prefix"] = "/**",
                            ["Rights"] = new JsonArray("read", "lock", "declare", "admin"),
                        }),
                    },
                },
            };
            var file = Path.Combine(settingsDir, "security.json");
            await File.WriteAllTextAsync(file, settings.ToJsonString());
            args.AddRange(["--config", file]);
        }
        args.AddRange(extraArgs);
        var app = Server.LeaseholdApp.Build([.. args]);
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await app.StartAsync(cts.Token);
        }
        catch
        {
            await app.DisposeAsync();
            Delete(dataDir, settingsDir);
            throw;
        }
        var server = new DashboardServer(app, dataDir, settingsDir, key);
        try
        {
            // The first requests build the endpoints and run the writer for the first time: not inside a timed assertion.
            using var warm = await server.Client.GetAsync(new Uri("/v1/resources?prefix=/", UriKind.Relative), cts.Token);
            if (warm.StatusCode != System.Net.HttpStatusCode.Forbidden)
            {
                // (A key that may read only part of the tree is refused the whole; the endpoints are built all the same.)
                warm.EnsureSuccessStatusCode();
            }
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async Task<JsonElement> SendJsonAsync(HttpMethod method, string url, string? body, HttpStatusCode expected, string? token = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, new Uri(url, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Leasehold-Token", token);
        }
        using var response = await Client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == expected, $"{method} {url}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<Held> AcquireAsync(string body, CancellationToken cancellationToken = default)
    {
        var lease = await SendJsonAsync(HttpMethod.Post, "/v1/leases", body, HttpStatusCode.Created, cancellationToken: cancellationToken);
        return new Held(lease.GetProperty("id").GetInt64(), lease.GetProperty("token").GetString()!);
    }

    public Task ReleaseAsync(Held lease) => SendJsonAsync(HttpMethod.Delete, $"/v1/leases/{lease.Id}", null, HttpStatusCode.NoContent, lease.Token);

    public Task DeclareAsync(string path, string attributes) => SendJsonAsync(HttpMethod.Put, "/v1/resources" + path, attributes, HttpStatusCode.OK);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using (var cts = new CancellationTokenSource(Timeout))
        {
            await App.StopAsync(cts.Token);
        }
        await App.DisposeAsync();
        Delete(_dataDir, _settingsDir);
    }

    private static void Delete(params string?[] dirs)
    {
        foreach (var dir in dirs)
        {
            if (dir is not null && Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
