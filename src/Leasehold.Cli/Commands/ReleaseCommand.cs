using System.CommandLine;
using Leasehold.Client;

namespace Leasehold.Cli.Commands;

/// <summary><c>leasehold release [ID] --token T</c>: end a lease.</summary>
internal static class ReleaseCommand
{
    public static Command Create()
    {
        var reference = new LeaseReference();
        var server = CommonOptions.Server();
        var json = CommonOptions.Json();
        var command = new Command("release", "Release a lease (one that is already gone is not an error)");
        reference.AddTo(command);
        command.Add(server);
        command.Add(json);
        command.SetAction((result, _) =>
        {
            var asJson = result.GetValue(json);
            return Failures.GuardAsync(asJson, result.GetValue(server)!, async () =>
            {
                var (id, token) = reference.Read(result);
                using var client = CommonOptions.Client(result, CommonOptions.ServerUris(result.GetValue(server)!));
                var released = true;
                try
                {
                    await client.ReleaseAsync(id, token);
                }
                catch (LeaseholdNotFoundException)
                {
                    released = false;
                }
                if (asJson)
                {
                    Console.Out.WriteLine(Failures.Object(writer =>
                    {
                        writer.WriteNumber("id", id);
                        writer.WriteBoolean("released", released);
                    }));
                }
                else if (released)
                {
                    Console.Out.WriteLine($"lease {id} released");
                }
                else
                {
                    Console.Error.WriteLine($"leasehold: lease {id} was not held (already released or expired)");
                }
                return ExitCodes.Ok;
            });
        });
        return command;
    }
}
