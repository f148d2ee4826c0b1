using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Leasehold.Client;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands.Admin;

/// <summary><c>leasehold admin leases</c> and <c>leasehold admin sessions</c>: everything held, filtered, without tokens.</summary>
internal static class AdminListCommands
{
    public static Command Leases()
    {
        var owner = Filter("--owner", "Only leases with this owner");
        var principal = Filter("--principal", "Only leases acquired by this authenticated principal");
        var prefix = Filter("--prefix", "Only leases with a path at or under this one");
        var olderThan = Durations.Option("--older-than", "Only leases granted at least this long ago (10m, 2h, ...)");
        var limit = Limit("leases");
        var command = new Command("leases", "List every lease, oldest first (no tokens)") { owner, principal, prefix, olderThan, limit };
        return AdminCommand.WithAction(command, async (result, client, json) =>
        {
            var list = await client.Admin.ListLeasesAsync(new LeaseFilter
            {
                Owner = result.GetValue(owner),
                Principal = result.GetValue(principal),
                Prefix = result.GetValue(prefix),
                OlderThan = result.GetValue(olderThan),
                Limit = CheckLimit(result.GetValue(limit)),
            });
            if (json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(list, ProtocolJsonContext.Default.AdminLeaseListDto));
                return ExitCodes.Ok;
            }
            var table = new TableWriter("ID", "OWNER", "PRINCIPAL", "MODE", "FENCE", "SINCE", "EXPIRES", "PATHS");
            foreach (var l in list.Leases)
            {
                table.Add(ResourceTables.Id(l.Id), l.Owner ?? "-", l.Principal ?? "-", ResourceTables.Mode(l), ResourceTables.Id(l.Fence),
                    ResourceTables.Time(l.AcquiredAt), ResourceTables.Expires(l), string.Join(' ', l.Paths));
            }
            Write(table, list.Truncated, "no lease matches");
            return ExitCodes.Ok;
        });
    }

    public static Command Sessions()
    {
        var owner = Filter("--owner", "Only sessions with this owner");
        var principal = Filter("--principal", "Only sessions opened by this authenticated principal");
        var limit = Limit("sessions");
        var command = new Command("sessions", "List every session, oldest first (no tokens)") { owner, principal, limit };
        return AdminCommand.WithAction(command, async (result, client, json) =>
        {
            var list = await client.Admin.ListSessionsAsync(new LeaseFilter
            {
                Owner = result.GetValue(owner),
                Principal = result.GetValue(principal),
                Limit = CheckLimit(result.GetValue(limit)),
            });
            if (json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(list, ProtocolJsonContext.Default.AdminSessionListDto));
                return ExitCodes.Ok;
            }
            var table = new TableWriter("ID", "OWNER", "PRINCIPAL", "LEASES", "TTL", "EXPIRES");
            foreach (var s in list.Sessions)
            {
                var left = s.ExpiresAt - DateTimeOffset.UtcNow;
                table.Add(ResourceTables.Id(s.Id), s.Owner ?? "-", s.Principal ?? "-", s.Leases.ToString(CultureInfo.InvariantCulture),
                    Durations.Format(TimeSpan.FromSeconds(s.Ttl)), left > TimeSpan.Zero ? "in " + Durations.Format(left) : "now");
            }
            Write(table, list.Truncated, "no session matches");
            return ExitCodes.Ok;
        });
    }

    private static Option<string?> Filter(string name, string description) => new(name) { Description = description, HelpName = "TEXT" };

    private static Option<int> Limit(string what) => new("--limit")
    {
        Description = $"At most this many {what} (1 to 10000)",
        HelpName = "N",
        DefaultValueFactory = _ => 1000,
    };

    private static int CheckLimit(int limit) => limit is >= 1 and <= 10000 ? limit : throw new UsageException("--limit: between 1 and 10000");

    private static void Write(TableWriter table, bool truncated, string none)
    {
        if (table.Count == 0)
        {
            Console.Out.WriteLine(none);
            return;
        }
        table.Write(Console.Out);
        if (truncated)
        {
            Console.Out.WriteLine($"(more match; only the first {table.Count} are shown: use --limit)");
        }
    }
}
