using System.Text.Json;
using Leasehold.Client;
using Leasehold.Protocol;

namespace Leasehold.Cli.Lockable;

/// <summary>
/// py-lockable mode with <c>--resources http(s)://SERVER/v1/pools/POOL/resources.json</c>: the same
/// requirement (defaults applied) allocated from that pool by that server — its fair queue instead of
/// polling, for up to <c>--timeout</c> — and the lease held as <c>run</c> holds one (a session, or
/// <c>--ttl</c>). The server's no-match and timeout come out as py-lockable's messages.
/// </summary>
internal static class LockableServer
{
    private static readonly TimeSpan DefaultSessionTtl = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(
        LockableSettings settings, LockableRequirement requirement, RunContext run, string prefix, string[] command, SignalForwarder signals)
    {
        var server = settings.Resources.Server!;
        var sessionTtl = run.Result.GetValue(run.SessionTtl) ?? DefaultSessionTtl;
        if (sessionTtl < TimeSpan.FromSeconds(1) || sessionTtl > TimeSpan.FromHours(24))
        {
            throw new UsageException("--session-ttl: between 1 s and 24 h");
        }
        var options = AcquireOptions.FromPool(settings.Resources.Pool!, requirement.Compiled.Text) with
        {
            Ttl = run.Selection.ReadTtl(run.Result),
            Wait = settings.Timeout,
            Owner = run.Result.GetValue(run.Selection.Owner),
        };
        var lifetime = options.Ttl ?? sessionTtl;
        var grace = StopTimeline.LeaseGrace(run.Result.GetValue(run.KillGrace), lifetime);
        using var client = CommonOptions.Client(run.Result, server, sessionTtl);
        var lease = await AcquireAsync(client, options, requirement, settings, server, signals.Interrupted)
                    ?? throw new CliException(ExitCodes.Locked, ErrorCodes.Locked, LockableRequirement.Timeout(settings.Timeout));
        await using (lease)
        {
            if (signals.Received is { } early)
            {
                return ExitCodes.Signal(early);
            }
            var chosen = lease.Resources.Count > 0 ? lease.Resources[0] : null;
            var environment = LockableEnvironment.Attributes(chosen?.Attributes ?? default, prefix, FallbackId(chosen));
            LeaseEnvironment.AddLeaseVariables(environment, lease, server);
            if (run.Json)
            {
                Console.Error.WriteLine(JsonSerializer.Serialize(lease.Lease with { Token = null }, ProtocolJsonContext.Default.LeaseDto));
            }
            return await ChildRunner.RunAsync(command, environment, signals, StopTimeline.ForLease(lease, lifetime, grace), run.Json);
        }
    }

    private static async Task<LeaseHandle?> AcquireAsync(
        LeaseholdClient client, AcquireOptions options, LockableRequirement requirement, LockableSettings settings, Uri server,
        CancellationToken cancellationToken)
    {
        var indicator = WaitIndicator.Start($"a resource of {settings.Resources.Pool} matching {requirement.Compiled.Text}", options.Wait);
        try
        {
            var lease = await client.TryAcquireAsync(options, cancellationToken);
            if (indicator is not null)
            {
                await indicator.StopAsync(granted: lease is not null);
            }
            return lease;
        }
        catch (LeaseholdNoMatchException)
        {
            throw new CliException(ExitCodes.NoMatch, ErrorCodes.NoMatch, requirement.NotAvailable);
        }
        catch (LeaseholdUnavailableException ex)
        {
            throw new CliException(ExitCodes.Unavailable, ex.Code, $"cannot reach the server at {server}: {ex.InnerException?.Message}");
        }
        finally
        {
            if (indicator is not null)
            {
                await indicator.DisposeAsync();
            }
        }
    }

    /// <summary>The id the pool's resource list shows for a resource without one: its path's last segment.</summary>
    private static string? FallbackId(ChosenResourceDto? chosen)
    {
        if (chosen is null || (chosen.Attributes is { ValueKind: JsonValueKind.Object } a && a.TryGetProperty("id", out var id) && id.ValueKind != JsonValueKind.Null))
        {
            return null;
        }
        return chosen.Path[(chosen.Path.LastIndexOf('/') + 1)..];
    }
}
