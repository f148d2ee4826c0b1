using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Leasehold.Server.Security;

namespace Leasehold.Server.Tests.Security;

/// <summary>
/// A real server with security on: API keys for ci (lock and read /ci/**), lab (declare and lock /lab/**) and
/// root (admin), every principal may read, anonymous callers may read /warm-up/** only (the test host's warm-up
/// requests). The settings live in a file the tests may rewrite to see a reload.
/// </summary>
internal sealed class SecuredServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private SecuredServer(TestServer server, string dir, Dictionary<string, string> keys)
    {
        Server = server;
        Dir = dir;
        Keys = keys;
    }

    public TestServer Server { get; }

    public string Dir { get; }

    public string SettingsFile => Path.Combine(Dir, "security.json");

    public IReadOnlyDictionary<string, string> Keys { get; }

    public static JsonArray DefaultRules() =>
    [
        Rule(["ci"], "/ci/**", "lock", "read"),
        Rule(["lab"], "/lab/**", "declare", "lock"),
        Rule(["root"], "/**", "admin"),
        Rule(["*"], "/**", "read"),
        Rule(["anonymous"], "/warm-up/**", "read"),
    ];

    public static JsonObject Rule(string[] who, string prefix, params string[] rights) => new()
    {
        ["Who"] = new JsonArray([.. who.Select(w => (JsonNode)w)]),
        ["Prefix"] = prefix,
        ["Rights"] = new JsonArray([.. rights.Select(r => (JsonNode)r)]),
    };

    public static async Task<SecuredServer> StartAsync(JsonArray? rules = null, params string[] extraArgs)
    {
        var dir = Path.Combine(Path.GetTempPath(), "leasehold-sec-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var keys = new Dictionary<string, string>();
        var apiKeys = new JsonObject();
        foreach (var principal in new[] { "ci", "lab", "root" })
        {
            keys[principal] = ApiKeys.Create(principal + "-key");
            apiKeys[principal + "-key"] = new JsonObject { ["Hash"] = ApiKeys.Hash(keys[principal]), ["Principal"] = principal };
        }
        var settings = new JsonObject
        {
            ["Leasehold"] = new JsonObject
            {
                ["Security"] = new JsonObject { ["ApiKeys"] = apiKeys, ["Rules"] = rules ?? DefaultRules() },
            },
        };
        var file = Path.Combine(dir, "security.json");
        await File.WriteAllTextAsync(file, settings.ToJsonString());
        try
        {
            var server = await TestServer.StartAsync(["--config", file, "--Leasehold:Durability=memory", .. extraArgs]);
            return new SecuredServer(server, dir, keys);
        }
        catch
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    /// <summary>A request as <paramref name="principal"/> (a key of <see cref="Keys"/>), or anonymous when null, or with a raw bearer.</summary>
    public async Task<HttpResponseMessage> SendAsync(string? principal, HttpMethod method, string url, string? json = null, string? leaseToken = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(url, UriKind.Relative));
        var credential = bearer ?? (principal is null ? null : Keys[principal]);
        if (credential is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }
        if (leaseToken is not null)
        {
            request.Headers.TryAddWithoutValidation(Protocol.Headers.Token, leaseToken);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        return await Server.Client.SendAsync(request);
    }

    /// <summary>The ids of the leases holding <paramref name="path"/>, read as root.</summary>
    public async Task<long[]> HoldersAsync(string path)
    {
        using var response = await SendAsync("root", HttpMethod.Get, "/v1/resources" + path);
        var body = await HttpAssert.ReadJsonAsync(response, System.Net.HttpStatusCode.OK);
        return [.. body.GetProperty("holders").EnumerateArray().Select(h => h.GetProperty("id").GetInt64())];
    }

    /// <summary>Rewrites the settings file with <paramref name="change"/> applied (the server re-reads it).</summary>
    public async Task RewriteAsync(Action<JsonObject> change)
    {
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(SettingsFile))!.AsObject();
        change(settings["Leasehold"]!["Security"]!.AsObject());
        var temporary = SettingsFile + ".tmp";
        await File.WriteAllTextAsync(temporary, settings.ToJsonString());
        File.Move(temporary, SettingsFile, overwrite: true);
    }

    /// <summary>Sends until the answer has <paramref name="status"/>, at most <see cref="Timeout"/>: a reload is asynchronous.</summary>
    public async Task<HttpResponseMessage> EventuallyAsync(System.Net.HttpStatusCode status, Func<Task<HttpResponseMessage>> send)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var response = await send();
            if (response.StatusCode == status || DateTime.UtcNow > deadline)
            {
                return response;
            }
            response.Dispose();
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Dir, recursive: true);
    }
}
