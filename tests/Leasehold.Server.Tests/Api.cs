using System.Net;
using System.Text;
using Leasehold.Protocol;

namespace Leasehold.Server.Tests;

/// <summary>
/// The few calls the tests that run their own servers (restarts, injected clocks) make, over one
/// <see cref="HttpClient"/>; tests with one server each use <see cref="ServerTestBase"/> instead.
/// </summary>
internal sealed class Api(HttpClient client)
{
    public async Task<Held> AcquireAsync(string path, double? ttlSeconds, string? owner = null)
    {
        var ttl = ttlSeconds is { } t ? $", \"ttl\": {t.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "";
        var who = owner is null ? "" : $", \"owner\": \"{owner}\"";
        using var response = await SendAsync(HttpMethod.Post, "/v1/leases", null, $"{{\"path\": \"{path}\"{ttl}{who}}}");
        var lease = await HttpAssert.ReadJsonAsync(response, HttpStatusCode.Created);
        return new Held(lease.GetProperty("id").GetInt64(), lease.GetProperty("token").GetString()!, lease.GetProperty("fence").GetInt64());
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string? token, string? json = null)
    {
        var request = new HttpRequestMessage(method, new Uri(url, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation(Headers.Token, token);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        return client.SendAsync(request);
    }

    public async Task<System.Text.Json.JsonElement> GetJsonAsync(string url)
    {
        using var response = await client.GetAsync(new Uri(url, UriKind.Relative));
        return await HttpAssert.ReadJsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary>Ids of the leases holding <paramref name="path"/> now.</summary>
    public async Task<long[]> HoldersAsync(string path)
        => [.. (await GetJsonAsync("/v1/resources" + path)).GetProperty("holders").EnumerateArray().Select(h => h.GetProperty("id").GetInt64())];

    /// <summary>Acquire, read and release on <paramref name="path"/> all answer: the writer serves.</summary>
    public async Task AssertServesAsync(string path)
    {
        var lease = await AcquireAsync(path, 10);
        Assert.Equal([lease.Id], await HoldersAsync(path));
        using var release = await SendAsync(HttpMethod.Delete, $"/v1/leases/{lease.Id}", lease.Token);
        Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        Assert.Empty(await HoldersAsync(path));
    }
}
