namespace Leasehold.Core.Query;

/// <summary>
/// A plain (non-object) query value. As in mongoquery, a field holding an array matches when the value
/// is one of its elements. An array value also matches an equal array, which mongoquery does not do
/// (Python's <c>[1, 2] in [1, 2]</c> is false) but users expect. A missing field never matches.
/// </summary>
internal sealed class PlainValueMatcher(Constant expected) : Matcher
{
    public override bool Matches(in Value value) =>
        value.IsArray
            ? PyEquality.Contains(value, expected) || (expected.IsArray && PyEquality.AreEqual(value, expected))
            : PyEquality.AreEqual(value, expected);
}

/// <summary>
/// <c>$eq</c> (and, negated, <c>$ne</c>): Python's <c>==</c> on the whole value, as mongoquery does; so
/// unlike a plain value it does not look inside an array, and <c>$ne</c> matches a missing field.
/// </summary>
internal sealed class EqualsMatcher(Constant expected) : Matcher
{
    public override bool Matches(in Value value) => PyEquality.AreEqual(value, expected);
}

/// <summary>
/// <c>$in</c> (and, negated, <c>$nin</c>): some listed value equals the field, or, when the field is an
/// array, is one of its elements. A missing field is in no list, so <c>$nin</c> matches it.
/// </summary>
internal sealed class InMatcher(Constant[] candidates) : Matcher
{
    public override bool Matches(in Value value)
    {
        var isArray = value.IsArray;
        foreach (var candidate in candidates)
        {
            if (isArray ? PyEquality.Contains(value, candidate) : PyEquality.AreEqual(value, candidate))
            {
                return true;
            }
        }
        return false;
    }
}
