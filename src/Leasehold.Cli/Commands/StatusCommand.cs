using System.CommandLine;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands;

/// <summary><c>leasehold status PATH</c>: holders and queue of one path, and what blocks it from above or below.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "The path, such as /lab/phone-7" };
        var server = CommonOptions.Server();
        var json = CommonOptions.Json();
        var command = new Command("status", "Show who holds a path and who waits for it");
        command.Add(path);
        command.Add(server);
        command.Add(json);
        command.SetAction((result, _) =>
        {
            var asJson = result.GetValue(json);
            return Failures.GuardAsync(asJson, result.GetValue(server)!, async () =>
            {
                using var client = CommonOptions.Client(result, CommonOptions.ServerUris(result.GetValue(server)!));
                var resource = await client.GetResourceAsync(result.GetValue(path)!);
                if (asJson)
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(resource, ProtocolJsonContext.Default.ResourceDto));
                }
                else
                {
                    ResourceTables.WriteStatus(resource, Console.Out);
                }
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
