using Leasehold.Client;

namespace Leasehold.Cli;

/// <summary>Acquiring with the wait indicator on, and a useful message when the wait runs out.</summary>
internal static class Acquisition
{
    public static async Task<LeaseHandle> AcquireAsync(LeaseholdClient client, AcquireOptions options, CancellationToken cancellationToken)
    {
        var what = SelectionOptions.Describe(options);
        var indicator = WaitIndicator.Start(what, options.Wait, QueuePosition(client, options));
        try
        {
            var lease = await client.TryAcquireAsync(options, cancellationToken);
            if (indicator is not null)
            {
                await indicator.StopAsync(granted: lease is not null);
            }
            return lease ?? throw new CliException(ExitCodes.Locked, Protocol.ErrorCodes.Locked,
                (options.Wait > TimeSpan.Zero ? $"{what}: not granted within {Durations.Format(options.Wait)}" : $"{what}: not free")
                + await HeldByAsync(client, options));
        }
        finally
        {
            if (indicator is not null)
            {
                await indicator.DisposeAsync();
            }
        }
    }

    /// <summary>For a path request: this request's place in the first path's queue, found by owner and path.</summary>
    private static Func<CancellationToken, Task<int?>>? QueuePosition(LeaseholdClient client, AcquireOptions options)
    {
        if (options.Paths.Count == 0)
        {
            return null;
        }
        var path = options.Paths[0];
        return async cancellationToken =>
        {
            var resource = await client.GetResourceAsync(path, cancellationToken);
            for (var i = resource.Queue.Length - 1; i >= 0; i--)
            {
                if (resource.Queue[i].Owner == options.Owner)
                {
                    return i + 1;
                }
            }
            return null;
        };
    }

    /// <summary>" (held by OWNER, lease N)" for the first path when that can be read, else nothing.</summary>
    private static async Task<string> HeldByAsync(LeaseholdClient client, AcquireOptions options)
    {
        if (options.Paths.Count == 0)
        {
            return "";
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var resource = await client.GetResourceAsync(options.Paths[0], timeout.Token);
            return resource.Holders.Length == 0
                ? ""
                : " (held by " + string.Join(", ", resource.Holders.Select(h => $"{h.Owner ?? "?"}, lease {h.Id}")) + ")";
        }
        catch (Exception ex) when (ex is HttpRequestException or LeaseholdException or OperationCanceledException)
        {
            return "";
        }
    }
}
