using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Compares two engine states field by field. Every public property of <see cref="Session"/>,
/// <see cref="Lease"/>, <see cref="Waiter"/>, <see cref="DeclaredResource"/> and <see cref="HistoryEntry"/> is
/// compared (found by reflection, so a field added later is compared too), pool groups with their pool,
/// requirement, count and chosen paths; lists are compared in order, so the queue's order matters.
/// </summary>
public static class StateAssert
{
    public static void Equal(EngineState expected, EngineState actual) => Equal(expected, actual, hashedTokens: false);

    /// <summary>
    /// <paramref name="actual"/> was read from data written before tokens were hashed, holding the tokens of
    /// <paramref name="written"/>: equal to it, but for each token being <see cref="TokenHash"/> of the one written.
    /// </summary>
    public static void EqualWithHashedTokens(EngineState written, EngineState actual) => Equal(written, actual, hashedTokens: true);

    private static void Equal(EngineState expected, EngineState actual, bool hashedTokens)
    {
        Assert.Equal(expected.LastLeaseId, actual.LastLeaseId);
        Assert.Equal(expected.LastSessionId, actual.LastSessionId);
        Assert.Equal(expected.LastWaiterId, actual.LastWaiterId);
        Assert.Equal(expected.LastFence, actual.LastFence);
        Assert.Equal(expected.LastReleaseSeq, actual.LastReleaseSeq);
        Assert.Equal(expected.Revision, actual.Revision);
        Func<object, string> describeExpected = hashedTokens ? item => Describe(item, hashTokens: true) : Describe;
        Assert.Equal(expected.Sessions.Select(describeExpected), actual.Sessions.Select(Describe));
        Assert.Equal(expected.Leases.Select(describeExpected), actual.Leases.Select(Describe));
        Assert.Equal(expected.Waiters.Select(describeExpected), actual.Waiters.Select(Describe));
        Assert.Equal((expected.Resources ?? []).Select(Describe), (actual.Resources ?? []).Select(Describe));
        Assert.Equal((expected.History ?? []).Select(e => Describe(e)), (actual.History ?? []).Select(e => Describe(e)));
        Assert.Equal((expected.Drains ?? []).Select(d => $"{d.Path.Value} {d.Actor} {d.Since}"), (actual.Drains ?? []).Select(d => $"{d.Path.Value} {d.Actor} {d.Since}"));
    }

    /// <summary>"Type{Name=value, ...}" over every public instance property, in name order.</summary>
    /// <remarks>
    /// A pool waiter's <see cref="Claim.Paths"/> are the set of its candidates, compared as a set: the engine
    /// lists them in the order of its path tree's hash tables (LockEngine.CollectMatching walks
    /// <c>Children.Values</c>), which an engine restored from a snapshot builds differently. The chosen paths
    /// of a lease's groups and the lease's own paths are compared in order.
    /// </remarks>
    public static string Describe(object item) => Describe(item, hashTokens: false);

    private static string Describe(object item, bool hashTokens)
    {
        var properties = item.GetType()
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToArray();
        Assert.NotEmpty(properties);
        var fields = properties.Select(p => $"{p.Name}={Format(p.GetValue(item) switch
        {
            var paths when p.Name == nameof(Claim.Paths) => CandidateSet(item, paths),
            UInt128 token when hashTokens && p.Name == nameof(Lease.Token) => TokenHash.Of(token),
            var value => value,
        })}");
        return $"{item.GetType().Name}{{{string.Join(", ", fields)}}}";
    }

    /// <summary>A pool waiter's candidate paths in ordinal order; anything else as it is.</summary>
    public static object? CandidateSet(object item, object? paths)
        => item is Waiter { Groups: not null } && paths is ResourcePath[] candidates
            ? candidates.OrderBy(p => p.Value, StringComparer.Ordinal).ToArray()
            : paths;

    private static string Format(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s + "\"",
        ResourcePath[] paths => "[" + string.Join(" ", paths.Select(p => p.Value)) + "]",
        string?[] texts => "[" + string.Join(" ", texts.Select(Format)) + "]",
        GroupClaim[] groups => "[" + string.Join(" ", groups.Select(Format)) + "]",
        GroupClaim g => $"(pool={g.Group.Pool.Value} require={Format(g.Group.Require)} count={g.Group.Count} compiled={Format(g.Requirement.Text)} chosen={Format(g.Chosen)})",
        JsonElement { ValueKind: JsonValueKind.Undefined } => "undefined",
        JsonElement e => e.ValueKind + ":" + e.GetRawText(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
