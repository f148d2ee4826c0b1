using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// A literal from the query, decoded once at compile time so matching never re-reads the query's JSON:
/// numbers are parsed, strings are materialised, arrays and objects are trees of constants.
/// </summary>
internal sealed class Constant
{
    private Constant(JsonValueKind kind)
    {
        Kind = kind;
    }

    public JsonValueKind Kind { get; }

    /// <summary>Set for numbers and booleans (Python's bool is an int).</summary>
    public PyNumber? Number { get; private init; }

    public string? String { get; private init; }

    public Constant[] Items { get; private init; } = [];

    /// <summary>Object members, last duplicate winning (as Python's <c>json.loads</c> keeps them).</summary>
    public KeyValuePair<string, Constant>[] Members { get; private init; } = [];

    public bool IsArray => Kind == JsonValueKind.Array;

    /// <summary>Decodes <paramref name="element"/>; <paramref name="where"/> names its place for the depth error.</summary>
    public static Constant From(JsonElement element, int depthLeft, string where)
    {
        if (depthLeft <= 0)
        {
            throw new QueryCompileException($"the query nests too deeply at {where}");
        }
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
            case JsonValueKind.True:
            case JsonValueKind.False:
                PyNumber.TryFrom(element, out var number);
                return new Constant(element.ValueKind) { Number = number };
            case JsonValueKind.String:
                return new Constant(JsonValueKind.String) { String = element.GetString() };
            case JsonValueKind.Array:
                return new Constant(JsonValueKind.Array)
                {
                    Items = [.. element.EnumerateArray().Select(item => From(item, depthLeft - 1, where))],
                };
            case JsonValueKind.Object:
                var members = new Dictionary<string, Constant>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    members[property.Name] = From(property.Value, depthLeft - 1, where);
                }
                return new Constant(JsonValueKind.Object) { Members = [.. members] };
            default:
                return new Constant(JsonValueKind.Null);
        }
    }
}
