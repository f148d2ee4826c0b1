using System.CommandLine;
using Leasehold.Server;
using Leasehold.Storage;

namespace Leasehold.Cli.Commands;

/// <summary><c>leasehold serve [server args...]</c>: the server itself, given the remaining arguments as they are.</summary>
internal static class ServeCommand
{
    public static Command Create(string[] allArgs)
    {
        var serverArgs = new Argument<string[]>("server-args")
        {
            Description = "Passed to the server unchanged: --urls URL, --data-dir DIR, --pool P --resources FILE, --Section:Key=value ... (docs/operations.md)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("serve", "Run the Leasehold server (as `dotnet run --project src/Leasehold.Server` does)")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.Add(serverArgs);
        command.SetAction(async (_, _) =>
        {
            // Everything after `serve`, untouched by this parser: the server reads its own command line.
            var index = Array.IndexOf(allArgs, command.Name);
            var forwarded = allArgs[(index + 1)..];
            try
            {
                await using var app = LeaseholdApp.Build(forwarded);
                return await LeaseholdApp.RunAsync(app);
            }
            catch (Exception ex) when (ex is CorruptDataException or IOException or UnauthorizedAccessException or InvalidDataException)
            {
                Console.Error.WriteLine(LeaseholdApp.DescribeRefusal(ex));
                return ExitCodes.CannotStart;
            }
        });
        return command;
    }
}
