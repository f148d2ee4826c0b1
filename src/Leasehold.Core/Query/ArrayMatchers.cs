namespace Leasehold.Core.Query;

/// <summary>
/// <c>$elemMatch</c>: some element of the array satisfies the whole condition object at once (field
/// keys for elements that are objects, operators for scalars). A non-array is no match.
/// </summary>
internal sealed class ElemMatchMatcher(Matcher condition) : Matcher
{
    public override bool Matches(in Value value)
    {
        if (!value.IsArray)
        {
            return false;
        }
        foreach (var item in value.Items)
        {
            if (condition.Matches(item))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary><c>$size</c>: the array itself has exactly this many elements; a non-array is no match.</summary>
internal sealed class SizeMatcher(long size) : Matcher
{
    public override bool Matches(in Value value) => value.IsArray && value.ArrayLength == size;
}
