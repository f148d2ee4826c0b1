using Leasehold.Fuzz.Harness;

namespace Leasehold.Fuzz.Targets;

/// <summary>Every target, by its <c>--format</c> name, in the order <c>all</c> runs them.</summary>
public static class Formats
{
    public static IReadOnlyList<FuzzTarget> All() =>
    [
        HttpJsonTarget.Create(), XmlRpcTarget.Create(), IdServerTarget.Create(), LogTarget.Create(), SnapshotTarget.Create(), EndToEndTarget.Create(),
    ];

    /// <summary>What <c>all</c> covers: every in-process target; the slow end-to-end target runs only when named.</summary>
    public static IReadOnlyList<FuzzTarget> Select(string format) => format == "all"
        ? [.. All().Where(t => t.Name != EndToEndTarget.Name)]
        : [.. All().Where(t => t.Name == format)];
}
