using System.CommandLine;

namespace Leasehold.Cli.Commands.Admin;

/// <summary><c>leasehold admin ...</c>: the administrators' commands (the server's <c>/v1/admin</c> routes).</summary>
internal static class AdminCommand
{
    public static Command Create() => new("admin", "Administer a server: revoke leases, end sessions, drain prefixes, list everything held; API keys")
    {
        KeysCommand.Create(),
        RevokeCommand.Create(),
        EndSessionCommand.Create(),
        DrainCommands.Drain(),
        DrainCommands.Undrain(),
        DrainCommands.List(),
        AdminListCommands.Leases(),
        AdminListCommands.Sessions(),
    };

    /// <summary>Adds the options every admin command takes and runs <paramref name="body"/> with a client, guarded like every command.</summary>
    public static Command WithAction(Command command, Func<ParseResult, Client.LeaseholdClient, bool, Task<int>> body)
    {
        var server = CommonOptions.Server();
        var json = CommonOptions.Json();
        command.Add(server);
        command.Add(json);
        command.SetAction((result, _) =>
        {
            var asJson = result.GetValue(json);
            return Failures.GuardAsync(asJson, result.GetValue(server)!, async () =>
            {
                using var client = CommonOptions.Client(result, CommonOptions.ServerUris(result.GetValue(server)!));
                return await body(result, client, asJson);
            });
        });
        return command;
    }
}
