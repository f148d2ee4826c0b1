namespace Leasehold.Core.Query;

/// <summary>Which of <c>$gt</c>, <c>$gte</c>, <c>$lt</c>, <c>$lte</c> a <see cref="ComparisonMatcher"/> is.</summary>
internal enum Comparison
{
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// <summary>
/// <c>$gt</c>/<c>$gte</c>/<c>$lt</c>/<c>$lte</c>: numbers with numbers, strings with strings, anything
/// else is no match. On an array field it matches when any element does, as MongoDB does; mongoquery
/// itself compares the Python list with the literal, which fails, so there such a query never matches.
/// </summary>
internal sealed class ComparisonMatcher(Comparison comparison, Constant operand) : Matcher
{
    public override bool Matches(in Value value)
    {
        if (!value.IsArray)
        {
            return MatchesOne(value);
        }
        foreach (var item in value.Items)
        {
            if (MatchesOne(item))
            {
                return true;
            }
        }
        return false;
    }

    private bool MatchesOne(in Value value)
    {
        if (!value.TryGetElement(out var element) || !PyOrder.TryCompare(element, operand, out var order))
        {
            return false;
        }
        return comparison switch
        {
            Comparison.Greater => order > 0,
            Comparison.GreaterOrEqual => order >= 0,
            Comparison.Less => order < 0,
            _ => order <= 0,
        };
    }
}
