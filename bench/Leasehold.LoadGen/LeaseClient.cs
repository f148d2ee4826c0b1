using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Leasehold.LoadGen;

/// <summary>The two calls the load makes, over one shared HttpClient.</summary>
internal sealed class LeaseClient(HttpClient http)
{
    private static readonly Uri LeasesUri = new("v1/leases", UriKind.Relative);

    /// <summary>Builds a request body once; the clients reuse it.</summary>
    public static byte[] Body(string path, double? waitSeconds, int? ttlSeconds)
        => JsonSerializer.SerializeToUtf8Bytes(new AcquireBody(path, waitSeconds, ttlSeconds), LoadJsonContext.Default.AcquireBody);

    /// <summary>POST /v1/leases. Returns the lease on 201, otherwise a null lease and the status.</summary>
    public async Task<(LeaseReply? Lease, HttpStatusCode Status)> AcquireAsync(byte[] body, CancellationToken cancel)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(LeasesUri, content, cancel);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            return (null, response.StatusCode);
        }
        var lease = await response.Content.ReadFromJsonAsync(LoadJsonContext.Default.LeaseReply, cancel);
        return (lease, response.StatusCode);
    }

    /// <summary>DELETE /v1/leases/{id} with the token; 204 when released.</summary>
    public async Task<HttpStatusCode> ReleaseAsync(LeaseReply lease, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri($"v1/leases/{lease.Id}", UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Leasehold-Token", lease.Token);
        using var response = await http.SendAsync(request, cancel);
        return response.StatusCode;
    }

    /// <summary>GET /v1/stats, or null when the server has no such endpoint or does not answer.</summary>
    public async Task<StatsReply?> StatsAsync(CancellationToken cancel)
    {
        try
        {
            using var response = await http.GetAsync(new Uri("v1/stats", UriKind.Relative), cancel);
            return response.StatusCode == HttpStatusCode.OK
                ? await response.Content.ReadFromJsonAsync(LoadJsonContext.Default.StatsReply, cancel)
                : null;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            return null;
        }
    }

    /// <summary>GET /readyz: recovered and writable; in a cluster also: the node knows a leader.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancel)
    {
        try
        {
            using var response = await http.GetAsync(new Uri("readyz", UriKind.Relative), cancel);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
