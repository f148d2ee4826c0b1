using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>The kinds of value <c>$type</c> tells apart, as flags so one test covers an alias like "number".</summary>
[Flags]
internal enum JsonTypes
{
    None = 0,
    Double = 1,
    Integer = 2,
    String = 4,
    Object = 8,
    Array = 16,
    Bool = 32,
    Null = 64,
}

/// <summary>
/// mongoquery's <c>$type</c> table, read for JSON values: Python's json module makes a double of a
/// number literal with a fraction or exponent and an int of any other, so "double"/1 and
/// "int"/16 / "long"/18 / "timestamp"/17 split numbers by how they are written. The types JSON cannot
/// hold ("binData"/5, "regex"/11, and "decimal"/19, which mongoquery does not know) match nothing.
/// Deliberately unlike mongoquery, a boolean is only a "bool" (Python would call it an int) and a string
/// is not an "array" (Python would call it a Sequence).
/// </summary>
internal static class JsonTypeNames
{
    private static readonly Dictionary<string, int> Aliases = new(StringComparer.Ordinal)
    {
        ["double"] = 1,
        ["string"] = 2,
        ["object"] = 3,
        ["array"] = 4,
        ["binData"] = 5,
        ["objectId"] = 7,
        ["bool"] = 8,
        ["date"] = 9,
        ["null"] = 10,
        ["regex"] = 11,
        ["javascript"] = 13,
        ["javascriptWithScope"] = 15,
        ["int"] = 16,
        ["timestamp"] = 17,
        ["long"] = 18,
        ["decimal"] = 19,
    };

    /// <summary>Resolves a <c>$type</c> argument (a name or a BSON number) at compile time.</summary>
    public static bool TryResolve(JsonElement argument, out JsonTypes types)
    {
        types = JsonTypes.None;
        if (argument.ValueKind == JsonValueKind.String)
        {
            var name = argument.GetString()!;
            if (name == "number")
            {
                types = JsonTypes.Double | JsonTypes.Integer;
                return true;
            }
            return Aliases.TryGetValue(name, out var code) && TryFromCode(code, out types);
        }
        // Python looks a float like 2.0 up as 2, so a whole number in any spelling is accepted.
        return argument.ValueKind == JsonValueKind.Number && argument.TryGetDouble(out var number)
            && number == Math.Floor(number) && Math.Abs(number) < 1000 && TryFromCode((int)number, out types);
    }

    private static bool TryFromCode(int code, out JsonTypes types)
    {
        types = code switch
        {
            1 => JsonTypes.Double,
            2 or 7 or 9 or 13 or 15 => JsonTypes.String,
            3 => JsonTypes.Object,
            4 => JsonTypes.Array,
            8 => JsonTypes.Bool,
            10 => JsonTypes.Null,
            16 or 17 or 18 => JsonTypes.Integer,
            _ => JsonTypes.None,
        };
        return types != JsonTypes.None || code is 5 or 11 or 19;
    }

    /// <summary>The kind of one value; a missing value has none, a projection is an array.</summary>
    public static JsonTypes Of(in Value value)
    {
        if (value.IsArray)
        {
            return JsonTypes.Array;
        }
        if (!value.TryGetElement(out var element))
        {
            return JsonTypes.None;
        }
        return element.ValueKind switch
        {
            JsonValueKind.Number => PyNumber.IsIntegerLiteral(element) ? JsonTypes.Integer : JsonTypes.Double,
            JsonValueKind.String => JsonTypes.String,
            JsonValueKind.Object => JsonTypes.Object,
            JsonValueKind.True or JsonValueKind.False => JsonTypes.Bool,
            _ => JsonTypes.Null,
        };
    }
}
