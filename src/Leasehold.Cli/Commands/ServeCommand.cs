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
            Description = "Passed to the server unchanged: --urls URL, --data-dir DIR, --tls-cert FILE --tls-key FILE, --pool P --resources FILE, --config FILE, --Section:Key=value ... (docs/operations.md)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        // The settings come from the server's own table, the one its unknown-key check reads: this list cannot drift.
        var description = string.Join(Environment.NewLine,
            "Run the Leasehold server (as `dotnet run --project src/Leasehold.Server` does).",
            "",
            "Settings are read from appsettings.json beside the server, then the --config FILE, then environment",
            "variables (Leasehold__DataDir) and the command line (--Leasehold:DataDir=DIR), the later winning.",
            "",
            $"Listen addresses: --urls URL[;URL] (default: {LeaseholdApp.DefaultUrl}).",
            $"HTTPS: --tls-cert FILE --tls-key FILE (PEM; the default address becomes {Leasehold.Server.Tls.TlsSetup.DefaultHttpsUrl}; docs/tls.md).",
            "",
            "Settings:",
            ServerSettings.Describe(),
            "",
            "Per-request lines are off by default: --Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Information shows them.");
        var command = new Command("serve", description)
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.Add(serverArgs);
        command.SetAction(async (_, _) =>
        {
            // Everything after `serve`, untouched by this parser: the server reads its own command line.
            var index = Array.IndexOf(allArgs, command.Name);
            var forwarded = allArgs[(index + 1)..];
            // The CLI opened no socket yet: the server gets the same event-thread completions as the server's own entry point.
            LeaseholdApp.PreferInlineSocketCompletions();
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
