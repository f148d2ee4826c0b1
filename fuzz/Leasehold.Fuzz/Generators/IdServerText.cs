using System.Text;
using CsCheck;

namespace Leasehold.Fuzz.Generators;

/// <summary>
/// idserver requests: JSON objects with <c>action</c>, <c>owner</c> and <c>expire</c> of right and wrong types,
/// joined into datagrams and TCP streams with odd separators (CR, CRLF, NUL, blank lines, several requests on one line).
/// </summary>
public static class IdServerText
{
    private static readonly Gen<string> Action = Gen.Frequency(
        (6, Gen.OneOf("\"get\"", "\"put\"")),
        (1, Gen.OneOf("\"GET\"", "\"get \"", "\"\"", "null", "1", "true", "[\"get\"]", "{}", "\"g\\u0065t\"")),
        (1, JsonText.Scalar));

    private static readonly Gen<string> Owner = Gen.Frequency(
        (5, Gen.OneOf("\"w1\"", "\"w2\"", "\"worker-3\"", "17", "\"17\"", "-0", "1e5")),
        (3, JsonText.String),
        (1, JsonText.Value(2)));

    private static readonly Gen<string> Expire = Gen.Frequency(
        (4, Gen.OneOf("0", "-1", "0.001", "1", "60", "31622400", "31622401", "1e308", "-1e308", "1e-320")),
        (3, JsonText.Number),
        (1, JsonText.Value(1)));

    /// <summary>One request's text.</summary>
    public static readonly Gen<string> Request = Gen.Frequency(
        (8, JsonText.ObjectOf(("action", Action), ("owner", Owner), ("expire", Expire))),
        (1, JsonText.Value(3)),
        (1, Gen.OneOf("", " ", "{", "}", "{\"action\":\"get\",\"owner\":\"w\",\"expire\":1}{\"action\":\"put\"}", "{'action': 'get'}", "get", "\u0000")));

    private static readonly Gen<string> Separator = Gen.OneOf("\n", "\r\n", "\n\n", "\r", "\0\n", " \n", "\t\n", "\u2028\n", "\n\r");

    /// <summary>Requests joined by separators: a datagram, or the bytes of a TCP stream.</summary>
    public static readonly Gen<byte[]> Stream = Gen.Frequency(
        (10, Gen.Select(Request, Separator).Array[1, 4].Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts.Select(p => p.Item1 + p.Item2))))),
        (3, Request.Select(Encoding.UTF8.GetBytes)),
        (2, Gen.Select(Request, Bytes.Damage, (request, damage) => damage(Encoding.UTF8.GetBytes(request + "\n")))),
        (1, Gen.Int[8_000, 70_000].Select(n => Encoding.UTF8.GetBytes("{\"action\": \"get\", \"owner\": \"" + new string('o', n) + "\", \"expire\": 1}\n"))),
        (1, Gen.Byte.Array[0, 64]));
}
