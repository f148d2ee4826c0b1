using Leasehold.Core.Query;

namespace Leasehold.Core.Pools;

/// <summary>
/// One requirement group of a pool request, as the command carries it: <see cref="Count"/> declared
/// resources under <see cref="Pool"/> whose attributes match <see cref="Require"/> (a JSON query text).
/// </summary>
public sealed record PoolGroup(ResourcePath Pool, string Require, int Count);

/// <summary>A group with its requirement compiled once, when the request arrives.</summary>
public sealed class GroupClaim
{
    public required PoolGroup Group { get; init; }

    public required Requirement Requirement { get; init; }

    /// <summary>For a lease: the resources chosen for this group, in the order chosen.</summary>
    public ResourcePath[] Chosen { get; set; } = [];

    /// <summary>Compiles the group's requirement text; false with a message naming the problem.</summary>
    public static bool TryCreate(PoolGroup group, out GroupClaim claim, out string error)
    {
        claim = null!;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(group.Require);
            if (!Requirement.TryCompile(document.RootElement, out var requirement, out error))
            {
                return false;
            }
            claim = new GroupClaim { Group = group, Requirement = requirement };
            return true;
        }
        catch (System.Text.Json.JsonException ex)
        {
            error = "the requirement is not valid JSON: " + ex.Message;
            return false;
        }
    }

    /// <summary>
    /// The group of stored state (a snapshot, a logged choice): compiled like a new request's, except that
    /// a requirement this version refuses is kept as <see cref="Requirement.Refused"/> instead of failing,
    /// since the state was valid when it was written.
    /// </summary>
    public static GroupClaim Restore(PoolGroup group)
        => TryCreate(group, out var claim, out _) ? claim : new GroupClaim { Group = group, Requirement = Requirement.Refused(group.Require) };
}
