using System.CommandLine;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands;

/// <summary><c>leasehold ls [PREFIX]</c>: held paths under a prefix.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var prefix = new Argument<string>("prefix")
        {
            Description = "Only paths at or under this one",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => "/",
        };
        var limit = new Option<int>("--limit")
        {
            Description = "At most this many paths (1 to 10000)",
            HelpName = "N",
            DefaultValueFactory = _ => 1000,
        };
        var server = CommonOptions.Server();
        var json = CommonOptions.Json();
        var command = new Command("ls", "List held paths under a prefix with their holders");
        command.Add(prefix);
        command.Add(limit);
        command.Add(server);
        command.Add(json);
        command.SetAction((result, _) =>
        {
            var asJson = result.GetValue(json);
            return Failures.GuardAsync(asJson, result.GetValue(server)!, async () =>
            {
                var max = result.GetValue(limit);
                if (max is < 1 or > 10000)
                {
                    throw new UsageException("--limit: between 1 and 10000");
                }
                using var client = CommonOptions.Client(result, CommonOptions.ServerUris(result.GetValue(server)!));
                var list = await client.ListAsync(result.GetValue(prefix)!, max);
                if (asJson)
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(list, ProtocolJsonContext.Default.ResourceListDto));
                }
                else
                {
                    ResourceTables.WriteList(list, Console.Out);
                }
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
