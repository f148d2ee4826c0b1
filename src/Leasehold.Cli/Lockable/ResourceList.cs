using System.Net;
using System.Text.Json;
using Leasehold.Server.Pools;

namespace Leasehold.Cli.Lockable;

/// <summary>
/// Reads the resource list from a file or a URL and checks it with py-lockable's rules and messages
/// (<see cref="ResourceFile"/>). A URL is fetched with one GET, retried a few times on 429 and 5xx
/// answers and on connection failures, as py-lockable's HTTP provider retries (it tries longer).
/// </summary>
internal static class ResourceList
{
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static async Task<IReadOnlyList<JsonElement>> LoadAsync(ResourceLocation location, CancellationToken cancellationToken)
    {
        string error;
        IReadOnlyList<JsonElement> resources;
        if (location.IsFile)
        {
            if (!ResourceFile.TryLoad(location.Text, out resources, out error))
            {
                throw Invalid(error);
            }
            return resources;
        }
        var body = await FetchAsync(location.Url!, cancellationToken);
        return ResourceFile.TryParse(body, out resources, out error) ? resources : throw Invalid(error);
    }

    private static CliException Invalid(string message) => new(ExitCodes.Error, "invalid-resources", message);

    private static async Task<string> FetchAsync(Uri url, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = RequestTimeout };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("leasehold-lockable/1");
        for (var attempt = 0; ; attempt++)
        {
            var last = attempt == Backoff.Length;
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return await response.Content.ReadAsStringAsync(cancellationToken);
                }
                if (last || !Retried(response.StatusCode))
                {
                    throw new CliException(ExitCodes.Error, "provider",
                        $"cannot read the resource list {url}: {(int)response.StatusCode} {response.ReasonPhrase}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested && last)
            {
                throw new CliException(ExitCodes.Unavailable, "unreachable", $"cannot reach {url}: {ex.Message}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Retried below.
            }
            await Task.Delay(Backoff[attempt], cancellationToken);
        }
    }

    private static bool Retried(HttpStatusCode status)
        => status is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
}
