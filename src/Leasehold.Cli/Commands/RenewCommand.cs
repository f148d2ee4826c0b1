using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Leasehold.Client;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands;

/// <summary><c>leasehold renew [ID] --token T [--ttl D]</c>: restart a lease's time to live.</summary>
internal static class RenewCommand
{
    public static Command Create()
    {
        var reference = new LeaseReference();
        var ttl = Durations.Option("--ttl", "A new time to live, counted from now [default: the lease's own]");
        var server = CommonOptions.Server();
        var json = CommonOptions.Json();
        var command = new Command("renew", "Restart a lease's time to live from now (exit 75 if it is no longer held)");
        reference.AddTo(command);
        command.Add(ttl);
        command.Add(server);
        command.Add(json);
        command.SetAction((result, _) =>
        {
            var asJson = result.GetValue(json);
            return Failures.GuardAsync(asJson, result.GetValue(server)!, async () =>
            {
                var (id, token) = reference.Read(result);
                var newTtl = result.GetValue(ttl);
                if (newTtl <= TimeSpan.Zero)
                {
                    throw new UsageException("--ttl: must be positive");
                }
                using var client = CommonOptions.Client(result, CommonOptions.ServerUris(result.GetValue(server)!));
                LeaseDto lease;
                try
                {
                    lease = await client.RenewAsync(id, token, newTtl);
                }
                catch (LeaseholdNotFoundException)
                {
                    throw new CliException(ExitCodes.Lost, ErrorCodes.NotFound, $"lease {id} is not held (released or expired)");
                }
                Console.Out.WriteLine(asJson
                    ? JsonSerializer.Serialize(lease, ProtocolJsonContext.Default.LeaseDto)
                    : lease.ExpiresAt is { } expires
                        ? string.Create(CultureInfo.InvariantCulture, $"lease {id} renewed: expires {expires.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z")
                        : $"lease {id} renewed");
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
