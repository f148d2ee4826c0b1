using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// Python's <c>&lt;</c> and <c>&gt;</c> as mongoquery's <c>$gt</c>/<c>$gte</c>/<c>$lt</c>/<c>$lte</c> use
/// them: numbers (and booleans, which Python counts as ints) with numbers, strings with strings by code
/// point. Any other pairing raises TypeError in Python, which mongoquery turns into "no match".
/// </summary>
internal static class PyOrder
{
    /// <summary>Orders a JSON value against a number or string literal; false when Python could not compare them.</summary>
    public static bool TryCompare(JsonElement element, Constant operand, out int order)
    {
        if (operand.Number is { } number)
        {
            if (PyNumber.TryFrom(element, out var actual))
            {
                order = PyNumber.Compare(actual, number);
                return true;
            }
        }
        else if (operand.String is { } text && JsonStrings.TryGet(element, out var actual))
        {
            order = CompareCodePoints(actual, text);
            return true;
        }
        order = 0;
        return false;
    }

    /// <summary>
    /// Python orders strings by code point; UTF-16 ordinal order differs only when a surrogate (a code
    /// point above U+FFFF) meets a unit in U+E000..U+FFFF, so those are moved into code-point order.
    /// </summary>
    public static int CompareCodePoints(string a, string b)
    {
        var length = Math.Min(a.Length, b.Length);
        for (var i = 0; i < length; i++)
        {
            if (a[i] != b[i])
            {
                return Rank(a[i]) - Rank(b[i]);
            }
        }
        return a.Length - b.Length;
    }

    private static int Rank(char c) => c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c;
}
