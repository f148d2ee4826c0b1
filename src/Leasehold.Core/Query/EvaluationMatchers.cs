using System.Text.RegularExpressions;

namespace Leasehold.Core.Query;

/// <summary>
/// <c>$mod: [divisor, remainder]</c> with Python's <c>%</c> (the remainder takes the divisor's sign,
/// fractions are kept, booleans count as 0 and 1). A value that is not a number is no match, where
/// mongoquery would raise.
/// </summary>
internal sealed class ModMatcher(PyNumber divisor, PyNumber remainder) : Matcher
{
    public override bool Matches(in Value value) =>
        value.TryGetElement(out var element)
        && PyNumber.TryFrom(element, out var number)
        && PyNumber.Compare(PyNumber.Modulo(number, divisor), remainder) == 0;
}

/// <summary><c>$regex</c>: a string containing a match of the pattern compiled at compile time; a non-string is no match.</summary>
internal sealed class RegexMatcher(Regex regex) : Matcher
{
    public override bool Matches(in Value value) =>
        value.TryGetElement(out var element)
        && JsonStrings.TryGet(element, out var text)
        && regex.IsMatch(text);
}
