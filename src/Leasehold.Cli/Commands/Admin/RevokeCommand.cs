using System.CommandLine;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands.Admin;

/// <summary><c>leasehold admin release LEASE-ID</c>: revoke anyone's lease, without its token.</summary>
internal static class RevokeCommand
{
    public static Command Create()
    {
        var id = new Argument<long>("lease-id") { Description = "The lease's id (leasehold admin leases lists them)" };
        var command = new Command("release", "Revoke a lease without its token (recorded in the history as revoked, with who did it)");
        command.Add(id);
        return AdminCommand.WithAction(command, async (result, client, json) =>
        {
            var lease = await client.Admin.RevokeLeaseAsync(result.GetValue(id));
            Console.Out.WriteLine(json
                ? JsonSerializer.Serialize(lease, ProtocolJsonContext.Default.LeaseDto)
                : $"lease {lease.Id} revoked (owner {lease.Owner ?? "-"}, fence {lease.Fence}, {string.Join(' ', lease.Paths)})");
            return ExitCodes.Ok;
        });
    }
}
