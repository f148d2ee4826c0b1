using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Leasehold.Cli.Lockable;

/// <summary>
/// JSON values spelled the way Python prints what <c>json.loads</c> made of them, for py-lockable's
/// messages (<c>requirements={'hostname': 'h', 'online': True}</c> is an f-string of a dict) and its
/// environment values (<c>str(value)</c>): <c>True</c>/<c>False</c>/<c>None</c>, strings in single quotes
/// (double when they hold a single quote and no double one) with Python's escapes, integers as written,
/// floats as Python's shortest <c>repr</c> (<c>1.0</c>, <c>1e+16</c>, <c>1e-05</c>), dicts and lists with
/// <c>", "</c> and <c>": "</c>.
/// </summary>
internal static class PythonRepr
{
    /// <summary><c>repr(value)</c>.</summary>
    public static string Of(JsonElement value)
    {
        var text = new StringBuilder();
        Write(text, value);
        return text.ToString();
    }

    /// <summary><c>str(value)</c>: a string as it is, anything else as its <c>repr</c>.</summary>
    public static string Str(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : Of(value);

    private static void Write(StringBuilder text, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                // json.loads keeps a repeated key's last value at its first place.
                var members = new OrderedDictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var property in value.EnumerateObject())
                {
                    members[property.Name] = property.Value;
                }
                text.Append('{');
                var first = true;
                foreach (var (name, member) in members)
                {
                    text.Append(first ? "" : ", ");
                    first = false;
                    Quote(text, name);
                    text.Append(": ");
                    Write(text, member);
                }
                text.Append('}');
                break;
            case JsonValueKind.Array:
                text.Append('[');
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    text.Append(index++ == 0 ? "" : ", ");
                    Write(text, item);
                }
                text.Append(']');
                break;
            case JsonValueKind.String:
                Quote(text, value.GetString()!);
                break;
            case JsonValueKind.Number:
                text.Append(Number(value.GetRawText()));
                break;
            case JsonValueKind.True:
                text.Append("True");
                break;
            case JsonValueKind.False:
                text.Append("False");
                break;
            default:
                text.Append("None");
                break;
        }
    }

    /// <summary>A JSON number as Python prints it: an int (no '.', 'e' or 'E') as written, else a float's repr.</summary>
    public static string Number(string raw)
    {
        if (raw.IndexOfAny(['.', 'e', 'E']) < 0)
        {
            return raw == "-0" ? "0" : raw;
        }
        return Float(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    /// <summary>Python's <c>repr(float)</c>: the shortest digits that round-trip, exponent form below 1e-4 and from 1e16.</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }
        var sign = double.IsNegative(value) ? "-" : "";
        if (double.IsInfinity(value))
        {
            return sign + "inf";
        }
        if (value == 0)
        {
            return sign + "0.0";
        }
        // .NET's "R" is the shortest round-trip text too; only the layout differs. Take its digits and
        // decimal point: value = 0.DIGITS x 10^point.
        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var e = shortest.IndexOf('E', StringComparison.Ordinal);
        var mantissa = e < 0 ? shortest : shortest[..e];
        var exponent = e < 0 ? 0 : int.Parse(shortest[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        var point = (dot < 0 ? mantissa.Length : dot) + exponent;
        var leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        point -= leading;
        return sign + (point <= -4 || point > 16 ? Scientific(digits, point - 1) : Positional(digits, point));
    }

    private static string Scientific(string digits, int exponent)
        => digits[..1] + (digits.Length > 1 ? "." + digits[1..] : "")
           + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);

    private static string Positional(string digits, int point) => point switch
    {
        <= 0 => "0." + new string('0', -point) + digits,
        _ when point >= digits.Length => digits + new string('0', point - digits.Length) + ".0",
        _ => digits[..point] + "." + digits[point..],
    };

    /// <summary>Python's string repr: quotes, backslash escapes, and \x/\u/\U for what is not printable.</summary>
    public static void Quote(StringBuilder text, string value)
    {
        var quote = value.Contains('\'', StringComparison.Ordinal) && !value.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        text.Append(quote);
        foreach (var rune in value.EnumerateRunes())
        {
            var c = rune.Value;
            if (c == quote || c == '\\')
            {
                text.Append('\\').Append((char)c);
            }
            else if (c is '\t' or '\n' or '\r')
            {
                text.Append(c switch { '\t' => "\\t", '\n' => "\\n", _ => "\\r" });
            }
            else if (c < ' ' || c == 0x7f)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{c:x2}");
            }
            else if (c < 0x7f || Printable(rune))
            {
                text.Append(rune.ToString());
            }
            else
            {
                var (escape, width) = c <= 0xff ? ("\\x", "x2") : c <= 0xffff ? ("\\u", "x4") : ("\\U", "x8");
                text.Append(escape).Append(c.ToString(width, CultureInfo.InvariantCulture));
            }
        }
        text.Append(quote);
    }

    /// <summary>Python's <c>str.isprintable</c> for one character: not in the Other or Separator categories (the space aside).</summary>
    private static bool Printable(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.SpaceSeparator => false,
        _ => true,
    };
}
