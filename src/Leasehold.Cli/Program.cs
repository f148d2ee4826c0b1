using System.CommandLine;
using System.CommandLine.Invocation;
using Leasehold.Cli;

if (args is [CommandGuard.Verb, ..])
{
    // The hidden step of `run` (CommandGuard): before anything else, and without the parser.
    return await CommandGuard.RunAsync(args);
}
var root = CliApp.Create(args);
// No response files: a child's argument such as @list must reach the child as it is.
var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
if (parsed.Action is ParseErrorAction)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine($"leasehold: {error.Message}");
    }
    var name = parsed.CommandResult.Command == root ? "leasehold" : $"leasehold {parsed.CommandResult.Command.Name}";
    Console.Error.WriteLine($"Try '{name} --help'.");
    return ExitCodes.Usage;
}
// No process-termination handling by the parser: `run` forwards SIGINT/SIGTERM to its child itself,
// and `serve` leaves them to the server's host.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
