namespace Leasehold.Core;

public sealed partial class LockEngine
{
    /// <summary>
    /// The leases of <paramref name="owner"/> (compared ordinally) whose every path is at or under
    /// <paramref name="prefix"/>, oldest (lowest id) first. A read: it changes nothing.
    /// </summary>
    public IReadOnlyList<Lease> LeasesOf(string owner, ResourcePath prefix)
    {
        var found = new List<Lease>();
        foreach (var lease in _leases.Values)
        {
            if (string.Equals(lease.Owner, owner, StringComparison.Ordinal) && Array.TrueForAll(lease.Paths, prefix.IsAncestorOrSelf))
            {
                found.Add(lease);
            }
        }
        found.Sort((a, b) => a.Id.CompareTo(b.Id));
        return found;
    }
}
