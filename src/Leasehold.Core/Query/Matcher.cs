namespace Leasehold.Core.Query;

/// <summary>
/// One node of a compiled query. Compiling turns every operator into a node holding its already
/// validated and decoded argument, so matching is a walk over this tree with no parsing and no
/// lookups by operator name.
/// </summary>
internal abstract class Matcher
{
    public abstract bool Matches(in Value value);
}

/// <summary>Matches everything: the empty query, an empty condition object, <c>$comment</c>.</summary>
internal sealed class AlwaysMatcher : Matcher
{
    public static readonly AlwaysMatcher Instance = new();

    public override bool Matches(in Value value) => true;
}

/// <summary>Matches nothing: e.g. <c>$gt</c> with a literal Python could never order anything against.</summary>
internal sealed class NeverMatcher : Matcher
{
    public static readonly NeverMatcher Instance = new();

    public override bool Matches(in Value value) => false;
}
