namespace Leasehold.Core.Query;

/// <summary><c>$type</c>: the value's kind is one of the resolved kinds (see <see cref="JsonTypeNames"/>).</summary>
internal sealed class TypeMatcher(JsonTypes types) : Matcher
{
    public override bool Matches(in Value value) => (JsonTypeNames.Of(value) & types) != 0;
}
