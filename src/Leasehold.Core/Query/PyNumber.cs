using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// A JSON number (or boolean) as Python sees it after <c>json.loads</c>, which is what mongoquery
/// compares: a literal without '.', 'e' or 'E' is an exact, unbounded int, any other literal is a
/// double, and <c>true</c>/<c>false</c> are the ints 1 and 0 (Python's <c>True == 1</c>). Comparisons
/// between an int and a double are exact, as in Python, so 2^53 + 1 is not equal to 2.0^53.
/// </summary>
internal readonly struct PyNumber
{
    // 2^53: every integer up to this magnitude converts to a double exactly.
    private const long ExactDoubleLimit = 1L << 53;

    private readonly long _small;
    private readonly BigInteger? _big;
    private readonly double _float;

    private PyNumber(long small, BigInteger? big, double value, bool isFloat)
    {
        _small = small;
        _big = big;
        _float = value;
        IsFloat = isFloat;
    }

    public bool IsFloat { get; }

    public bool IsZero => IsFloat ? _float == 0 : _big is { } big ? big.IsZero : _small == 0;

    public static PyNumber FromInt(long value) => new(value, null, 0, false);

    private static PyNumber FromBig(BigInteger value) =>
        value >= long.MinValue && value <= long.MaxValue ? FromInt((long)value) : new(0, value, 0, false);

    private static PyNumber FromFloat(double value) => new(0, null, value, true);

    /// <summary>Reads a number or a boolean; anything else is not a number to Python's comparisons.</summary>
    public static bool TryFrom(JsonElement element, out PyNumber number)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.True:
                number = FromInt(1);
                return true;
            case JsonValueKind.False:
                number = FromInt(0);
                return true;
            case JsonValueKind.Number:
                number = Parse(element);
                return true;
            default:
                number = default;
                return false;
        }
    }

    /// <summary>Whether a JSON number literal is a Python int (no fraction, no exponent).</summary>
    public static bool IsIntegerLiteral(JsonElement number) =>
        number.TryGetInt64(out _) || number.GetRawText().AsSpan().IndexOfAny(".eE") < 0;

    private static PyNumber Parse(JsonElement number)
    {
        // The common case (a small int) needs no string at all.
        if (number.TryGetInt64(out var small))
        {
            return FromInt(small);
        }
        var raw = number.GetRawText();
        return raw.AsSpan().IndexOfAny(".eE") >= 0
            ? FromFloat(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture))
            : FromBig(BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
    }

    private BigInteger AsBig => _big ?? _small;

    private double AsDouble => IsFloat ? _float : _big is { } big ? (double)big : _small;

    /// <summary>Python's ordering: negative, zero or positive.</summary>
    public static int Compare(PyNumber a, PyNumber b)
    {
        if (a.IsFloat && b.IsFloat)
        {
            return a._float.CompareTo(b._float);
        }
        if (!a.IsFloat && !b.IsFloat)
        {
            return a._big is null && b._big is null ? a._small.CompareTo(b._small) : a.AsBig.CompareTo(b.AsBig);
        }
        return a.IsFloat ? -CompareIntToFloat(b, a._float) : CompareIntToFloat(a, b._float);
    }

    // Exact, like Python. Past 2^53 every double is a whole number, so converting it to an integer loses
    // nothing; a double with a fraction truncates toward zero, which cannot change its order against an
    // integer that large.
    private static int CompareIntToFloat(PyNumber integer, double value)
    {
        if (double.IsInfinity(value))
        {
            return value > 0 ? -1 : 1;
        }
        if (integer._big is null && integer._small is >= -ExactDoubleLimit and <= ExactDoubleLimit)
        {
            return ((double)integer._small).CompareTo(value);
        }
        return integer.AsBig.CompareTo(new BigInteger(value));
    }

    /// <summary>Python's <c>%</c>: the result takes the divisor's sign (floored division). The divisor is not zero.</summary>
    public static PyNumber Modulo(PyNumber dividend, PyNumber divisor)
    {
        if (!dividend.IsFloat && !divisor.IsFloat)
        {
            // long.MinValue % -1 overflows in C#; x % -1 is always 0, so only other divisors take the fast path.
            if (dividend._big is null && divisor._big is null && divisor._small != -1)
            {
                var small = dividend._small % divisor._small;
                return FromInt(small != 0 && (small < 0) != (divisor._small < 0) ? small + divisor._small : small);
            }
            var remainder = BigInteger.Remainder(dividend.AsBig, divisor.AsBig);
            if (!remainder.IsZero && remainder.Sign != divisor.AsBig.Sign)
            {
                remainder += divisor.AsBig;
            }
            return FromBig(remainder);
        }
        var d = divisor.AsDouble;
        var r = dividend.AsDouble % d;
        if (r != 0 && (r < 0) != (d < 0))
        {
            r += d;
        }
        return FromFloat(r);
    }
}
