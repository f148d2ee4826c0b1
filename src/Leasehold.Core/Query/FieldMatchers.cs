namespace Leasehold.Core.Query;

/// <summary>A non-operator key of a condition object: follow the path, then test what is there.</summary>
internal sealed class FieldMatcher(FieldPath path, Matcher condition) : Matcher
{
    public override bool Matches(in Value value) => condition.Matches(path.Extract(value));
}

/// <summary>
/// <c>{"path": {"$exists": b}}</c>. It looks at the path, not at an extracted value, because
/// mongoquery decides existence by walking the path (an empty array has no <c>a.b</c>, though
/// extracting <c>a.b</c> from it gives an empty list).
/// </summary>
internal sealed class PathExistsMatcher(FieldPath path, bool expected) : Matcher
{
    public override bool Matches(in Value value) => path.Exists(value) == expected;
}

/// <summary>
/// <c>$exists</c> where no field key names a path (inside <c>$not</c>, <c>$elemMatch</c> on scalars):
/// whether the value is there at all.
/// </summary>
internal sealed class ValueExistsMatcher(bool expected) : Matcher
{
    public override bool Matches(in Value value) => !value.IsMissing == expected;
}
