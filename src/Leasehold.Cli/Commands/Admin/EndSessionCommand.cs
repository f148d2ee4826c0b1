using System.CommandLine;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands.Admin;

/// <summary><c>leasehold admin end-session SESSION-ID</c>: end anyone's session, as if it expired.</summary>
internal static class EndSessionCommand
{
    public static Command Create()
    {
        var id = new Argument<long>("session-id") { Description = "The session's id (leasehold admin sessions lists them)" };
        var command = new Command("end-session", "End a session without its token, as if it expired: its leases end, its waiting requests fail");
        command.Add(id);
        return AdminCommand.WithAction(command, async (result, client, json) =>
        {
            var session = await client.Admin.EndSessionAsync(result.GetValue(id));
            Console.Out.WriteLine(json
                ? JsonSerializer.Serialize(session, ProtocolJsonContext.Default.SessionDto)
                : $"session {session.Id} ended (owner {session.Owner ?? "-"}, {session.Leases} lease(s) ended with it)");
            return ExitCodes.Ok;
        });
    }
}
