namespace Leasehold.Core.Query;

/// <summary>All parts match: a condition object's keys, <c>$and</c>, <c>$all</c>.</summary>
internal sealed class AndMatcher(Matcher[] parts) : Matcher
{
    public override bool Matches(in Value value)
    {
        foreach (var part in parts)
        {
            if (!part.Matches(value))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary><c>$or</c>: some part matches.</summary>
internal sealed class OrMatcher(Matcher[] parts) : Matcher
{
    public override bool Matches(in Value value)
    {
        foreach (var part in parts)
        {
            if (part.Matches(value))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary><c>$nor</c>: no part matches.</summary>
internal sealed class NorMatcher(Matcher[] parts) : Matcher
{
    public override bool Matches(in Value value)
    {
        foreach (var part in parts)
        {
            if (part.Matches(value))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary><c>$not</c>, and <c>$ne</c>/<c>$nin</c> as the negations mongoquery defines them to be.</summary>
internal sealed class NotMatcher(Matcher inner) : Matcher
{
    public override bool Matches(in Value value) => !inner.Matches(value);
}
