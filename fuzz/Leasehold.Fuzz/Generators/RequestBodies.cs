using CsCheck;

namespace Leasehold.Fuzz.Generators;

/// <summary>Bodies of the JSON routes: every field the route takes, with values of the right type, hostile values and wrong types.</summary>
public static class RequestBodies
{
    private static readonly string[] Attributes = ["os", "online", "n", "tags", "id", "model", "model.b", "tags.0", "", "$x", "a.b.c"];

    private static readonly string[] Operators =
        ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$and", "$or", "$nor", "$not", "$exists", "$type", "$mod", "$regex", "$all", "$elemMatch", "$size", "$comment", "$options", "$where", "$bogus"];

    private static readonly string[] Patterns =
        ["^android", "(a+)+$", "(a|aa)+b", "^(\\\\w+\\\\s?)*$", "[", "a{1,99999}", "(?i)PIXEL", "\\\\p{L}+", "(?<=a)b", "\\\\1", "(?>a)", ".*.*.*=.*", ""];

    /// <summary>A requirement: a query object with operators, a <c>k=v&amp;…</c> string, or something that is neither.</summary>
    public static Gen<string> Query(int depth) => depth <= 0
        ? Gen.Select(Gen.OneOf(Attributes).Select(JsonText.Quote), JsonText.Scalar).Array[0, 3].Select(JsonText.Object)
        : Gen.Frequency(
        (4, Gen.Select(Gen.OneOf(Attributes).Select(JsonText.Quote), Condition(depth)).Array[0, 4].Select(JsonText.Object)),
        (1, Gen.Select(Gen.OneOf("$and", "$or", "$nor").Select(JsonText.Quote), Query(depth - 1).Array[0, 3].Select(q => "[" + string.Join(",", q) + "]")).Array[1, 2].Select(JsonText.Object)),
        (2, Gen.OneOf("os=android&online=true", "n=5", "k=", "=", "a=b&&c=d", "id=r0&id=r1", "tags=a").Select(JsonText.Quote)),
        (1, JsonText.Value(2)));

    private static Gen<string> Condition(int depth) => depth <= 0
        ? JsonText.Scalar
        : Gen.Frequency(
            (3, JsonText.Scalar),
            (4, Gen.Select(Gen.OneOf(Operators).Select(JsonText.Quote), Operand(depth - 1)).Array[1, 3].Select(JsonText.Object)));

    private static Gen<string> Operand(int depth) => Gen.Frequency(
        (4, JsonText.Scalar),
        (2, Gen.OneOf(Patterns).Select(p => "\"" + p + "\"")),
        (2, JsonText.Scalar.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
        (1, Gen.OneOf("[2,1]", "[0,0]", "[1e308,-1]", "[-9223372036854775808,-1]", "[1]", "[\"a\",1]", "\"string\"", "\"number\"", "2", "99")),
        (2, depth <= 0 ? JsonText.Scalar : Condition(depth)));

    private static Gen<string> ArrayOf(Gen<string> item) => Gen.Frequency(
        (5, item.Array[0, 5].Select(items => "[" + string.Join(",", items) + "]")),
        (1, Gen.Int[100, 5_000].Select(n => "[" + string.Join(",", Enumerable.Range(0, n).Select(i => "\"/many/p" + i + "\"")) + "]")));

    private static readonly Gen<string> PoolPath = Gen.Frequency((4, Gen.OneOf("\"/pool\"", "\"/pool/sub\"", "\"/\"", "\"/pool/r0\"")), (1, JsonText.String));

    /// <summary>A count or limit: small and valid mostly, at the edges of <c>int</c> sometimes.</summary>
    private static readonly Gen<string> SmallNumber = Gen.Frequency((3, Gen.Int[-2, 6].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))), (2, JsonText.Number));

    /// <summary>Seconds: valid mostly, beyond every limit sometimes.</summary>
    private static readonly Gen<string> Seconds = Gen.Frequency((3, Gen.OneOf("0", "0.001", "1", "2.5", "60", "86400", "31622400")), (2, JsonText.Number));

    /// <summary>A body of <c>POST /v1/leases</c>.</summary>
    public static readonly Gen<string> Acquire = JsonText.ObjectOf(
        ("path", JsonText.String),
        ("paths", ArrayOf(JsonText.String)),
        ("owner", JsonText.String),
        ("mode", Gen.Frequency((4, Gen.OneOf("\"exclusive\"", "\"shared\"")), (1, JsonText.String))),
        ("limit", SmallNumber),
        ("ttl", Seconds),
        ("wait", Seconds),
        ("session", SmallNumber),
        ("lockParents", JsonText.Literal),
        ("lockChildren", JsonText.Literal),
        ("pool", PoolPath),
        ("require", Query(2)),
        ("count", SmallNumber),
        ("groups", ArrayOf(JsonText.ObjectOf(("pool", PoolPath), ("require", Query(2)), ("count", SmallNumber)))),
        ("reuse", JsonText.Literal),
        ("idempotencyKey", Gen.Frequency((3, Gen.OneOf("\"fuzz-key-0123456789\"", "\"fuzz-key-9876543210\"")), (1, JsonText.String))));

    /// <summary>A body of <c>POST /v1/leases/{id}/renew</c>.</summary>
    public static readonly Gen<string> Renew = JsonText.ObjectOf(("ttl", Seconds));

    /// <summary>A body of <c>POST /v1/sessions</c>.</summary>
    public static readonly Gen<string> Session = JsonText.ObjectOf(("ttl", Seconds), ("owner", JsonText.String));

    /// <summary>A body of <c>PUT /v1/resources/{path}</c>: any object of attributes, or not an object at all.</summary>
    public static readonly Gen<string> Declare = Gen.Frequency(
        (4, Gen.Select(Gen.OneOf(Attributes).Select(JsonText.Quote), JsonText.Value(3)).Array[0, 6].Select(JsonText.Object)),
        (1, JsonText.Value(3)));
}
