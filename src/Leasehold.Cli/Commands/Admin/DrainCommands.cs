using System.CommandLine;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands.Admin;

/// <summary><c>leasehold admin drain|undrain PATH</c> and <c>leasehold admin drains</c>.</summary>
internal static class DrainCommands
{
    public static Command Drain()
    {
        var path = new Argument<string>("path") { Description = "The prefix, such as /lab/rack-2" };
        var command = new Command("drain", "Drain a prefix: nothing new is granted at or under it; held leases run out");
        command.Add(path);
        return AdminCommand.WithAction(command, async (result, client, json) =>
        {
            var drain = await client.Admin.DrainAsync(result.GetValue(path)!);
            Console.Out.WriteLine(json
                ? JsonSerializer.Serialize(drain, ProtocolJsonContext.Default.DrainDto)
                : $"{drain.Path} drained (by {drain.Actor} since {ResourceTables.Time(drain.Since)})");
            return ExitCodes.Ok;
        });
    }

    public static Command Undrain()
    {
        var path = new Argument<string>("path") { Description = "The drained prefix" };
        var command = new Command("undrain", "End a drain: requests waiting for it are granted in queue order");
        command.Add(path);
        return AdminCommand.WithAction(command, async (result, client, json) =>
        {
            var drain = await client.Admin.UndrainAsync(result.GetValue(path)!);
            Console.Out.WriteLine(json
                ? JsonSerializer.Serialize(drain, ProtocolJsonContext.Default.DrainDto)
                : $"{drain.Path} undrained");
            return ExitCodes.Ok;
        });
    }

    public static Command List()
    {
        var command = new Command("drains", "List the drained prefixes");
        return AdminCommand.WithAction(command, async (_, client, json) =>
        {
            var drains = await client.Admin.ListDrainsAsync();
            if (json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new DrainListDto { Drains = [.. drains] }, ProtocolJsonContext.Default.DrainListDto));
                return ExitCodes.Ok;
            }
            if (drains.Count == 0)
            {
                Console.Out.WriteLine("nothing is drained");
                return ExitCodes.Ok;
            }
            var table = new TableWriter("PATH", "BY", "SINCE");
            foreach (var drain in drains)
            {
                table.Add(drain.Path, drain.Actor, ResourceTables.Time(drain.Since));
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
    }
}
