using System.CommandLine;
using System.Globalization;

namespace Leasehold.Cli;

/// <summary>The lease id and token of <c>renew</c> and <c>release</c>: from the command line, else from the environment <c>lock</c> sets up.</summary>
internal sealed class LeaseReference
{
    public Argument<long?> Id { get; } = new("id")
    {
        Description = $"The lease's id [default: ${LeaseEnvironment.LeaseId}]",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public Option<string> Token { get; } = new("--token")
    {
        Description = $"The lease's token [default: ${LeaseEnvironment.Token}]",
        HelpName = "TOKEN",
    };

    public void AddTo(Command command)
    {
        command.Add(Id);
        command.Add(Token);
    }

    public (long Id, string Token) Read(ParseResult result)
    {
        long id;
        if (result.GetValue(Id) is { } given)
        {
            id = given;
        }
        else if (Environment.GetEnvironmentVariable(LeaseEnvironment.LeaseId) is { Length: > 0 } fromEnv)
        {
            id = long.TryParse(fromEnv, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new UsageException($"{LeaseEnvironment.LeaseId}: '{fromEnv}' is not a lease id");
        }
        else
        {
            throw new UsageException($"give the lease id (or set {LeaseEnvironment.LeaseId})");
        }
        var token = result.GetValue(Token) is { Length: > 0 } t ? t
            : Environment.GetEnvironmentVariable(LeaseEnvironment.Token) is { Length: > 0 } fromEnvToken ? fromEnvToken
            : throw new UsageException($"give --token TOKEN (or set {LeaseEnvironment.Token})");
        return (id, token);
    }
}
