using System.CommandLine;
using Leasehold.Cli.Commands;

namespace Leasehold.Cli;

/// <summary>The <c>leasehold</c> command tree.</summary>
internal static class CliApp
{
    public static RootCommand Create(string[] args) => new("leasehold: locks, leases and allocation from a Leasehold server (docs/cli.md)")
    {
        ServeCommand.Create(args),
        RunCommand.Create(),
        LockCommand.Create(),
        RenewCommand.Create(),
        ReleaseCommand.Create(),
        StatusCommand.Create(),
        ListCommand.Create(),
        ValidateCommand.Create(),
        Commands.Admin.AdminCommand.Create(),
    };
}
