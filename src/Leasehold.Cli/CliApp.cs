using System.CommandLine;
using Leasehold.Cli.Commands;

namespace Leasehold.Cli;

/// <summary>The <c>leasehold</c> command tree.</summary>
internal static class CliApp
{
    public static RootCommand Create(string[] args)
    {
        var root = new RootCommand("leasehold: locks, leases and allocation from a Leasehold server (docs/cli.md)")
        {
            ServeCommand.Create(args),
            RunCommand.Create(),
            LockCommand.Create(),
            RenewCommand.Create(),
            ReleaseCommand.Create(),
            StatusCommand.Create(),
            ListCommand.Create(),
            WatchCommand.Create(),
            ValidateCommand.Create(),
            CertsCommand.Create(),
            Commands.Admin.AdminCommand.Create(),
            Commands.ClusterCommand.Create(),
        };
        // On the root and recursive: every command that talks to a server takes them, from the environment too.
        foreach (var option in CommonOptions.Tls())
        {
            root.Add(option);
        }
        return root;
    }
}
