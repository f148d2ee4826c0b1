using System.Globalization;
using System.Text;
using CsCheck;

namespace Leasehold.Fuzz.Generators;

/// <summary>
/// JSON text with hostile values, written by hand rather than through a serializer so that it can hold what
/// a serializer never writes: lone surrogate escapes, numbers beyond every type, nesting past any limit,
/// duplicate names, and near-misses of the syntax.
/// </summary>
public static class JsonText
{
    private static readonly string[] OddNumbers =
    [
        "0", "-0", "1", "-1", "0.0", "1e308", "1e309", "-1e400", "1e-400", "4.9e-324", "123456789012345678901234567890",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "2147483647", "2147483648", "-2147483649",
        "4294967296", "0.0000001", "0.0005", "0.001", "31622400", "31622400.0001", "86400", "86400.0001", "1E+2", "1e2",
        "18446744073709551616", "3.4028236e38", "1.7976931348623157e308", "NaN", "Infinity", "-Infinity", "01", "1.",
        "-", ".5", "+1", "0x10", "1_000", "١",
    ];

    private static readonly string[] OddStrings =
    [
        "", " ", "/", "//", "/a", "/a/b", "/a//b", "/a/./b", "/a/../b", "/..", "/.", "a", "/a/", "\\a", "/a\\b", "/%2F",
        "/a%2Fb", "/\u0000", "/a\u0001b", "/\u007f", "/\u00e9", "/\u2028", "/\ufeff", "/\uffff", "/\ud83d\ude00",
        "exclusive", "shared", "EXCLUSIVE", "get", "put", "os=android&online=true", "k=", "=v", "&&", "k=v&", "a=b=c",
        "{}", "[]", "null", "true", "$regex", "(a+)+$", "^(a|a)*$", "(?<x>a)\\k<x>", "[", "\\", "(?=a)", "a{99999}",
    ];

    private static readonly string[] OddSurrogateEscapes =
    [
        "\\ud800", "\\udfff", "\\udc00\\ud800", "\\ud800x", "\\ud83d\\ude00", "\\ud83d", "\\ude00", "\\u0000", "\\u001f",
        "\\uFFFE", "\\uffff", "\\u00e9", "\\u2028", "\\x41", "\\u12", "\\'", "\\",
    ];

    /// <summary>A number as JSON text: ordinary, at the edges of every numeric type, or not quite JSON.</summary>
    public static readonly Gen<string> Number = Gen.Frequency(
        (3, Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.Int[-5, 100_000].Select(i => i.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))),
        (3, Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "1e999")),
        (2, Gen.Double[0, 1000].Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
        (4, Gen.OneOf(OddNumbers)));

    /// <summary>A JSON string literal (quotes included) of hostile content.</summary>
    public static readonly Gen<string> String = Gen.Frequency(
        (4, Gen.OneOf(OddStrings).Select(Quote)),
        (3, Gen.String[0, 40].Select(Quote)),
        (2, Gen.Char.Array[0, 20].Select(chars => Quote(new string(chars)))),
        (2, Path.Select(Quote)),
        (2, Gen.OneOf(OddSurrogateEscapes).Array[1, 4].Select(parts => "\"a" + string.Concat(parts) + "\"")),
        (1, Gen.Int[200, 70_000].Select(n => Quote(new string('x', n)))),
        (1, Gen.Int[10, 3_000].Select(n => Quote(string.Concat(Enumerable.Repeat("/seg", n))))),
        (1, Gen.OneOf("\"unterminated", "\"a\nb\"", "\"tab\there\"", "'single'", "\"\\u\"", "\"\u0000\"")));

    /// <summary>A resource path: separators and segments a path parser must refuse or normalise.</summary>
    public static Gen<string> Path => Gen.Select(
        Gen.OneOf("/", "", "//", "/./", "/../", "\\", "%2F", "/ ").Array[0, 6],
        Gen.OneOf("a", "b", "..", ".", "", "x y", "\u0000", "\t", "é", "\ud83d\ude00", "\ud800", "lab", "rack-2", "phone-7", "pool", "r0").Array[0, 6],
        (seps, segs) =>
        {
            var text = new StringBuilder("/");
            for (var i = 0; i < Math.Max(seps.Length, segs.Length); i++)
            {
                text.Append(i < segs.Length ? segs[i] : "").Append(i < seps.Length ? seps[i] : "/");
            }
            return text.ToString();
        });

    /// <summary>true, false or null.</summary>
    public static readonly Gen<string> Literal = Gen.OneOf("true", "false", "null", "True", "nul", "undefined");

    /// <summary>Any scalar.</summary>
    public static readonly Gen<string> Scalar = Gen.Frequency((3, Number), (4, String), (2, Literal));

    /// <summary>Arrays and objects nested past every depth limit (System.Text.Json stops at 64 by default).</summary>
    public static readonly Gen<string> Deep = Gen.Select(Gen.Int[30, 5_000], Gen.Bool, (depth, array) => array
        ? new string('[', depth) + "1" + new string(']', depth)
        : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth));

    /// <summary>Any value, nested up to <paramref name="depth"/> levels.</summary>
    public static Gen<string> Value(int depth) => depth <= 0
        ? Scalar
        : Gen.Frequency(
            (6, Scalar),
            (1, Value(depth - 1).Array[0, 5].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Select(String, Value(depth - 1)).Array[0, 5].Select(Object)),
            (1, Deep));

    /// <summary>An object from name and value texts (names already quoted).</summary>
    public static string Object((string Name, string Value)[] members) => "{" + string.Join(",", members.Select(m => m.Name + ":" + m.Value)) + "}";

    /// <summary>
    /// An object with some of <paramref name="fields"/> (name, value generator). Half are well-typed: each field
    /// present or not, its value valid JSON of the field's kind (hostile in content only), so that the body gets
    /// past deserialization to the checks behind it. The other half are hostile in form too: values of other
    /// types, repeated and unknown fields. Members come in a random order.
    /// </summary>
    public static Gen<string> ObjectOf(params (string Name, Gen<string> Value)[] fields)
    {
        var typed = fields.Select(f => Gen.Frequency(
            (1, Gen.Const(Array.Empty<(string, string)>())),
            (1, f.Value.Where(IsJson).Select(v => new[] { (Quote(f.Name), v) })))).ToArray();
        var hostile = fields.Select(f => Gen.Frequency(
            (3, Gen.Const(Array.Empty<(string, string)>())),
            (6, f.Value.Select(v => new[] { (Quote(f.Name), v) })),
            (1, Value(2).Select(v => new[] { (Quote(f.Name), v) })),
            (1, Gen.Select(f.Value, Value(1), (a, b) => new[] { (Quote(f.Name), a), (Quote(f.Name), b) })))).ToArray();
        var extra = Gen.Frequency(
            (6, Gen.Const(Array.Empty<(string, string)>())),
            (1, Gen.Select(String, Value(1), (n, v) => new[] { (n, v) })));
        return Gen.Frequency(
            (1, Gen.Select(All(typed), Gen.Int, (parts, order) => Shuffled(parts.SelectMany(p => p).ToArray(), order))),
            (1, Gen.Select(All(hostile), extra, Gen.Int, (parts, more, order) => Shuffled(parts.SelectMany(p => p).Concat(more).ToArray(), order))));
    }

    private static string Shuffled((string, string)[] members, int order)
    {
        new Random(order).Shuffle(members);
        return Object(members);
    }

    /// <summary>Whether <paramref name="text"/> is one JSON value (lone-surrogate escapes included, which are valid syntax).</summary>
    public static bool IsJson(string text)
    {
        var reader = new System.Text.Json.Utf8JsonReader(Encoding.UTF8.GetBytes(text), new System.Text.Json.JsonReaderOptions { MaxDepth = 10_000 });
        try
        {
            while (reader.Read())
            {
            }
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>One value from each generator, in order.</summary>
    public static Gen<T[]> All<T>(Gen<T>[] gens) =>
        gens.Aggregate(Gen.Const(Array.Empty<T>()), (all, gen) => Gen.Select(all, gen, (items, item) => (T[])[.. items, item]));

    /// <summary>JSON text of <paramref name="document"/>, sometimes damaged: cut short, with a stray byte, bad UTF-8, a BOM, a comment, a trailing comma.</summary>
    public static Gen<byte[]> Damaged(Gen<string> document) => Gen.Frequency(
        (16, document.Select(Encoding.UTF8.GetBytes)),
        (4, Gen.Select(document, Bytes.Damage, (text, damage) => damage(Encoding.UTF8.GetBytes(text)))),
        (1, Gen.Select(document, Gen.OneOf("\ufeff", " /* c */ ", "\r\n\t ", "//x\n"), (text, prefix) => Encoding.UTF8.GetBytes(prefix + text))),
        (1, document.Select(text => Encoding.UTF8.GetBytes(text.EndsWith('}') ? text[..^1] + ",}" : text + ","))),
        (1, Gen.Byte.Array[0, 64]));

    /// <summary>A JSON string literal of <paramref name="text"/>, escaping every UTF-16 unit outside printable ASCII, so lone surrogates survive.</summary>
    public static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"':
                    quoted.Append("\\\"");
                    break;
                case '\\':
                    quoted.Append("\\\\");
                    break;
                case < ' ' or > '~':
                    quoted.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    quoted.Append(c);
                    break;
            }
        }
        return quoted.Append('"').ToString();
    }
}
