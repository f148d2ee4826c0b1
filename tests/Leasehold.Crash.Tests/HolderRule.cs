namespace Leasehold.Crash.Tests;

/// <summary>
/// The holder rule of docs/semantics.md, applied to a listing: which pairs of current holders could not both
/// have been granted. The older lease (lower fence, granted first) is the holder whose flags decide.
/// </summary>
internal static class HolderRule
{
    /// <summary>Every conflict among <paramref name="leases"/> (distinct leases, each once).</summary>
    public static List<string> Conflicts(IReadOnlyList<LeaseView> leases)
    {
        var found = new List<string>();
        var ordered = leases.OrderBy(l => l.Fence).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            for (var j = i + 1; j < ordered.Count; j++)
            {
                if (Blocks(ordered[i], ordered[j]) is { } why)
                {
                    found.Add($"{ordered[i]} and {ordered[j]} both held: {why}");
                }
            }
        }
        // Semaphores: the exclusive holders of one path share one limit and do not exceed it.
        var exclusiveByPath = ordered.Where(l => l.Mode == "exclusive")
            .SelectMany(l => l.Paths.Select(p => (Path: p, Lease: l)))
            .GroupBy(x => x.Path, StringComparer.Ordinal);
        foreach (var group in exclusiveByPath)
        {
            var holders = group.Select(x => x.Lease).ToList();
            var limits = holders.Select(l => l.Limit ?? 1).Distinct().ToList();
            if (limits.Count > 1 || holders.Count > limits[0])
            {
                found.Add($"{group.Key} has {holders.Count} exclusive holders with limits [{string.Join(',', limits)}]: {string.Join("; ", holders)}");
            }
        }
        return found;
    }

    /// <summary>Why <paramref name="holder"/> (granted first) would have blocked <paramref name="later"/>, or null.</summary>
    public static string? Blocks(LeaseView holder, LeaseView later)
    {
        if (holder.Mode == "shared" && later.Mode == "shared")
        {
            return null;
        }
        foreach (var p in holder.Paths)
        {
            foreach (var q in later.Paths)
            {
                if (p == q)
                {
                    // Two exclusive holders of one semaphore path may coexist; the count is checked per path.
                    var semaphore = holder.Mode == "exclusive" && later.Mode == "exclusive" && holder.Limit is > 1 && holder.Limit == later.Limit;
                    if (!semaphore)
                    {
                        return $"both on {p}";
                    }
                }
                else if (IsStrictAncestor(q, p) && holder.LockParents)
                {
                    return $"{q} is an ancestor of the older lease's {p}, which locks its parents";
                }
                else if (IsStrictAncestor(p, q) && holder.LockChildren)
                {
                    return $"{q} is below the older lease's {p}, which locks its children";
                }
            }
        }
        return null;
    }

    public static bool IsStrictAncestor(string ancestor, string path)
        => ancestor == "/"
            ? path != "/"
            : path.Length > ancestor.Length + 1 && path.StartsWith(ancestor, StringComparison.Ordinal) && path[ancestor.Length] == '/';
}
