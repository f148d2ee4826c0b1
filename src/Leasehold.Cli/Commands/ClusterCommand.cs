using System.CommandLine;
using System.Text.Json;
using Leasehold.Cli.Commands.Admin;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands;

/// <summary><c>leasehold cluster status|add|remove</c>: a cluster's view and membership (docs/cluster.md).</summary>
internal static class ClusterCommand
{
    public static Command Create() => new("cluster", "A cluster's state and members: status, add a member, remove one")
    {
        Status(),
        Member("add", "Add a member: the Raft endpoint (host:port) of a running node started with the cluster's members", (client, endpoint) => client.Admin.AddClusterMemberAsync(endpoint)),
        Member("remove", "Remove a member by its Raft endpoint (host:port)", (client, endpoint) => client.Admin.RemoveClusterMemberAsync(endpoint)),
    };

    private static Command Status()
    {
        var command = new Command("status", "The cluster as the node asked sees it: role, term, leader, commit index, lag, members");
        return AdminCommand.WithAction(command, async (_, client, json) =>
        {
            Write(await client.Admin.ClusterStatusAsync(), json);
            return ExitCodes.Ok;
        });
    }

    private static Command Member(string name, string description, Func<Client.LeaseholdClient, string, Task<ClusterStatusDto>> change)
    {
        var endpoint = new Argument<string>("endpoint") { Description = "The member's Raft endpoint, host:port" };
        var command = new Command(name, description);
        command.Add(endpoint);
        return AdminCommand.WithAction(command, async (result, client, json) =>
        {
            Write(await change(client, result.GetValue(endpoint)!), json);
            return ExitCodes.Ok;
        });
    }

    private static void Write(ClusterStatusDto status, bool json)
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(status, ProtocolJsonContext.Default.ClusterStatusDto));
            return;
        }
        Console.Out.WriteLine($"node {status.Node}: {status.Role}, term {status.Term}, leader {status.Leader ?? "none"}{(status.LeaderUrl is null ? "" : $" ({status.LeaderUrl})")}");
        Console.Out.WriteLine($"log: committed {status.CommitIndex}, applied {status.AppliedIndex}, last {status.LastIndex}, lag {(status.Lag is { } lag ? lag.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown (no serving leader answered)")}");
        var table = new TableWriter("MEMBER", "STATUS", "ROLE");
        foreach (var member in status.Members.OrderBy(m => m.Endpoint, StringComparer.Ordinal))
        {
            table.Add(member.Endpoint + (member.Local ? " (this node)" : ""), member.Status, member.Leader ? "leader" : "follower");
        }
        table.Write(Console.Out);
    }
}
