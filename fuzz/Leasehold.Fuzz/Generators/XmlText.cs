using System.Text;
using CsCheck;

namespace Leasehold.Fuzz.Generators;

/// <summary>
/// XML-RPC method calls: lockd's methods with values of every XML-RPC type, hostile text and nesting, and
/// documents that are not calls at all: DTDs with entity expansion or external entities, deep elements,
/// other encodings, CDATA, comments and processing instructions.
/// </summary>
public static class XmlText
{
    private static readonly string[] Methods = ["lock", "unlock", "system.listMethods", "system.methodHelp", "system.methodSignature", "", "LOCK", "system.multicall", "__init__"];

    private static readonly string[] OddText =
    [
        "", "a", "res-1", "client", ".", "..", "a/b", "/", "x y", "&amp;", "&lt;&gt;", "&#65;", "&#x0;", "&#xD800;", "&#x1F600;", "&#1;",
        "&unknown;", "<![CDATA[<>&]]>", "\t\r\n", " padded ", "9223372036854775808", "-9223372036854775809", "1e999", "NaN", "0x1F",
        "é", "\ud83d\ude00", "<!-- c -->x", "<?pi x?>y", "]]>",
    ];

    private static readonly Gen<string> Text = Gen.Frequency(
        (4, Gen.OneOf(OddText)),
        (3, Gen.String[0, 20].Select(Escape)),
        (1, Gen.Int[300, 5_000].Select(n => new string('r', n))));

    private static readonly Gen<string> Scalar = Gen.Frequency(
        (4, Text.Select(t => $"<string>{t}</string>")),
        (2, Text.Select(t => t)),
        (2, Gen.Frequency((2, Gen.Long.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture))), (1, Text)).Select(t => $"<int>{t}</int>")),
        (1, Gen.Select(Gen.OneOf("i4", "i8"), Gen.Int, (t, v) => $"<{t}>{v}</{t}>")),
        (1, Gen.OneOf("0", "1", "2", "true", " 1 ", "").Select(t => $"<boolean>{t}</boolean>")),
        (1, Gen.Frequency((2, Gen.Double.Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture))), (1, Text)).Select(t => $"<double>{t}</double>")),
        (1, Gen.OneOf("YWJj", "YWJ", "!!", "", "====").Select(t => $"<base64>{t}</base64>")),
        (1, Gen.OneOf("20260101T00:00:00", "x", "").Select(t => $"<dateTime.iso8601>{t}</dateTime.iso8601>")),
        (1, Gen.OneOf("<nil/>", "<ex:nil xmlns:ex=\"x\"/>", "<unknown>1</unknown>", "<string/>", "")));

    /// <summary>A <c>&lt;value&gt;</c>, nested up to <paramref name="depth"/> levels of arrays and structs.</summary>
    public static Gen<string> Value(int depth) => (depth <= 0
        ? Scalar
        : Gen.Frequency(
            (6, Scalar),
            (1, Value(depth - 1).Array[0, 4].Select(items => "<array><data>" + string.Concat(items) + "</data></array>")),
            (1, Gen.Select(Text, Value(depth - 1)).Array[0, 4].Select(members =>
                "<struct>" + string.Concat(members.Select(m => $"<member><name>{m.Item1}</name>{m.Item2}</member>")) + "</struct>")),
            (1, Gen.Int[60, 400].Select(n => string.Concat(Enumerable.Repeat("<array><data><value>", n)) + "1" + string.Concat(Enumerable.Repeat("</value></data></array>", n))))))
        .Select(inner => $"<value>{inner}</value>");

    /// <summary>A call to one of lockd's methods (or a near miss) with up to four parameters.</summary>
    public static readonly Gen<string> Call = Gen.Select(
        Gen.Frequency((5, Gen.OneOf(Methods)), (1, Text)),
        Gen.Frequency((3, Gen.Select(Gen.OneOf("<value><string>res</string></value>", "<value>res-2</value>"), Gen.OneOf("<value><string>client-a</string></value>", "<value>client-b</value>"), (a, b) => a + "|" + b).Select(v => v.Split('|'))), (4, Value(3).Array[0, 4])),
        Gen.Int[0, 9],
        (method, values, shape) =>
        {
            var parameters = string.Concat(values.Select(v => $"<param>{v}</param>"));
            return shape switch
            {
                0 => $"<methodCall><methodName>{method}</methodName></methodCall>",
                1 => $"<methodCall><params>{parameters}</params></methodCall>",
                2 => $"<methodCall><methodName>{method}</methodName><params><param/>{parameters}</params></methodCall>",
                _ => $"<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>{parameters}</params>\n</methodCall>",
            };
        });

    /// <summary>Prefixes that make a document hostile: DTDs (entity expansion, external entities), encodings, stray markup.</summary>
    private static readonly string[] Hostile =
    [
        "<!DOCTYPE methodCall [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>",
        "<!DOCTYPE methodCall SYSTEM \"external.dtd\">",
        "<!DOCTYPE methodCall [<!ENTITY x SYSTEM \"http://127.0.0.1:1/x\">]>",
        "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
        "<?xml version=\"1.0\" encoding=\"ebcdic-cp-us\"?>",
        "<?xml version=\"1.1\"?>",
        "\ufeff",
        "<!-- a comment -->",
        "<?xml-stylesheet href=\"x\"?>",
        "<![CDATA[x]]>",
        "<other/>",
        "  \n",
    ];

    /// <summary>A request body: a call, sometimes hostile, sometimes damaged, sometimes bytes alone.</summary>
    public static readonly Gen<byte[]> Document = Gen.Frequency(
        (10, Call.Select(Encoding.UTF8.GetBytes)),
        (3, Gen.Select(Gen.OneOf(Hostile), Call, (prefix, call) => Encoding.UTF8.GetBytes(call.StartsWith("<?xml", StringComparison.Ordinal) ? call.Replace("<methodCall>", prefix + "<methodCall>", StringComparison.Ordinal) : prefix + call))),
        (1, Call.Select(call => Encoding.Unicode.GetBytes(call))),
        (1, Gen.Int[100, 20_000].Select(n => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("<a>", n)) + string.Concat(Enumerable.Repeat("</a>", n))))),
        (3, Gen.Select(Call, Bytes.Damage, (call, damage) => damage(Encoding.UTF8.GetBytes(call)))),
        (1, Gen.Byte.Array[0, 64]));

    /// <summary>Text with the three characters markup needs escaped.</summary>
    public static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
