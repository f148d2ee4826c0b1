using System.Globalization;
using Leasehold.Protocol;

namespace Leasehold.Cli;

/// <summary>Holders and queues as plain-text tables, for <c>status</c> and <c>ls</c>.</summary>
internal static class ResourceTables
{
    public static void WriteStatus(ResourceDto resource, TextWriter output)
    {
        output.WriteLine($"path: {resource.Path}");
        if (resource.Attributes is { } attributes)
        {
            output.WriteLine($"attributes: {attributes.GetRawText()}");
        }
        if (resource.Holders.Length == 0)
        {
            output.WriteLine("holders: none");
        }
        else
        {
            output.WriteLine("holders:");
            var holders = new TableWriter("ID", "OWNER", "MODE", "FENCE", "SINCE", "EXPIRES");
            foreach (var h in resource.Holders)
            {
                holders.Add(Id(h.Id), h.Owner ?? "-", Mode(h), Id(h.Fence), Time(h.AcquiredAt), Expires(h));
            }
            holders.Write(output, indent: "  ");
        }
        if (resource.Queue.Length == 0)
        {
            output.WriteLine("queue: empty");
        }
        else
        {
            output.WriteLine("queue:");
            var queue = new TableWriter("OWNER", "WAITED", "MODE", "PATHS");
            foreach (var w in resource.Queue)
            {
                queue.Add(w.Owner ?? "-", Durations.Format(TimeSpan.FromSeconds(w.Waiting)), w.Mode, string.Join(' ', w.Paths));
            }
            queue.Write(output, indent: "  ");
        }
        // Printed only when there is something: the exact path's lines above already say it is free
        // when nothing above or below stands in the way either.
        if (resource.BlockedBy is { Length: > 0 } blockers)
        {
            output.WriteLine("blocked by leases above or below:");
            var table = new TableWriter("ID", "OWNER", "MODE", "FENCE", "SINCE", "EXPIRES", "PATHS");
            foreach (var h in blockers)
            {
                table.Add(Id(h.Id), h.Owner ?? "-", Mode(h), Id(h.Fence), Time(h.AcquiredAt), Expires(h), string.Join(' ', h.Paths));
            }
            table.Write(output, indent: "  ");
        }
        if (resource.QueuedAhead is { Length: > 0 } ahead)
        {
            output.WriteLine("queued ahead, above or below:");
            var table = new TableWriter("OWNER", "WAITED", "MODE", "PATHS");
            foreach (var w in ahead)
            {
                table.Add(w.Owner ?? "-", Durations.Format(TimeSpan.FromSeconds(w.Waiting)), w.Mode, string.Join(' ', w.Paths));
            }
            table.Write(output, indent: "  ");
        }
    }

    public static void WriteList(ResourceListDto list, TextWriter output)
    {
        var table = new TableWriter("PATH", "ID", "OWNER", "MODE", "FENCE", "SINCE", "EXPIRES", "QUEUED");
        foreach (var resource in list.Resources)
        {
            foreach (var h in resource.Holders)
            {
                table.Add(resource.Path, Id(h.Id), h.Owner ?? "-", Mode(h), Id(h.Fence), Time(h.AcquiredAt), Expires(h),
                    resource.Queue.Length.ToString(CultureInfo.InvariantCulture));
            }
        }
        if (table.Count == 0)
        {
            output.WriteLine($"nothing held under {list.Prefix}");
            return;
        }
        table.Write(output);
        if (list.Truncated)
        {
            output.WriteLine($"(more paths are held; only the first {list.Resources.Length} are shown: use --limit)");
        }
    }

    internal static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    internal static string Mode(LeaseDto lease) => lease.Limit is > 1 ? $"{lease.Mode}/{lease.Limit}" : lease.Mode;

    internal static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal static string Expires(LeaseDto lease)
    {
        if (lease.ExpiresAt is { } expires)
        {
            var left = expires - DateTimeOffset.UtcNow;
            return left > TimeSpan.Zero ? "in " + Durations.Format(left) : "now";
        }
        return lease.Session is { } session ? $"with session {session}" : "when released";
    }
}
