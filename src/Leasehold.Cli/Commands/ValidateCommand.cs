using System.CommandLine;
using Leasehold.Server.Pools;

namespace Leasehold.Cli.Commands;

/// <summary><c>leasehold validate FILE</c>: the server's check of a py-lockable resources file, same messages and codes.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A py-lockable resources.json" };
        var command = new Command("validate", "Check a resources file with py-lockable's rules (exit 0 valid, 1 not)");
        command.Add(file);
        command.SetAction(result =>
        {
            var path = result.GetValue(file)!;
            if (ResourceFile.TryLoad(path, out var resources, out var error))
            {
                Console.WriteLine($"{path}: {resources.Count} resources, valid");
                return ExitCodes.Ok;
            }
            Console.Error.WriteLine(error);
            return ExitCodes.Error;
        });
        return command;
    }
}
