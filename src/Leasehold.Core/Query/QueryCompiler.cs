using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// Compiles a mongoquery-style query into a <see cref="Matcher"/> tree, validating every operator and
/// its argument up front so a bad query is refused when it is submitted, not when it first meets a
/// resource. Errors name the operator and where it is: the dotted chain of keys from the top, with
/// <c>[i]</c> for list positions (e.g. <c>$and[0].os</c>).
/// </summary>
internal static partial class QueryCompiler
{
    /// <summary>How deeply condition objects and literals may nest, so hostile input cannot exhaust the stack.</summary>
    public const int MaxDepth = 64;

    public static Matcher Compile(JsonElement query)
    {
        if (query.ValueKind != JsonValueKind.Object)
        {
            throw new QueryCompileException($"a query must be a JSON object, not {Describe(query.ValueKind)}");
        }
        return CompileObject(query, "", MaxDepth);
    }

    /// <summary>
    /// A condition object: every key must hold. Keys starting with '$' are operators applied to the value
    /// itself; other keys are field paths inside it, which is what makes a nested object without operators
    /// a subset match of the sub-document (mongoquery's rule, unlike MongoDB's exact equality).
    /// </summary>
    private static Matcher CompileObject(JsonElement obj, string location, int depthLeft, string? skip = null)
    {
        if (depthLeft <= 0)
        {
            throw new QueryCompileException($"the query nests too deeply at {Where(location)}");
        }
        var parts = new List<Matcher>();
        foreach (var (key, condition) in Members(obj))
        {
            if (key == skip)
            {
                continue;
            }
            parts.Add(key.StartsWith('$')
                ? CompileOperator(key, condition, location, depthLeft - 1)
                : CompileField(key, condition, Child(location, key), depthLeft - 1));
        }
        return AllOf(parts);
    }

    /// <summary>A field's condition: an object is a condition object, anything else a plain value to equal.</summary>
    private static Matcher CompileCondition(JsonElement condition, string location, int depthLeft) =>
        condition.ValueKind == JsonValueKind.Object
            ? CompileObject(condition, location, depthLeft)
            : new PlainValueMatcher(Literal(condition, location, depthLeft));

    /// <summary>
    /// A field key. <c>$exists</c> in its condition is about the path, not the value found there, so it
    /// is split out and checked on the path (mongoquery does the same); the other keys must hold too.
    /// </summary>
    private static Matcher CompileField(string key, JsonElement condition, string location, int depthLeft)
    {
        var path = new FieldPath(key);
        if (condition.ValueKind != JsonValueKind.Object || !condition.TryGetProperty("$exists", out var exists))
        {
            return new FieldMatcher(path, CompileCondition(condition, location, depthLeft));
        }
        var existence = new PathExistsMatcher(path, ExistsArgument(exists, location));
        var rest = CompileObject(condition, location, depthLeft, skip: "$exists");
        return rest is AlwaysMatcher ? existence : new AndMatcher([existence, new FieldMatcher(path, rest)]);
    }

    private static Matcher AllOf(List<Matcher> parts) => parts.Count switch
    {
        0 => AlwaysMatcher.Instance,
        1 => parts[0],
        _ => new AndMatcher([.. parts]),
    };

    // Python's dict keeps the last of duplicate keys, in the position of the first.
    private static OrderedDictionary<string, JsonElement> Members(JsonElement obj)
    {
        var members = new OrderedDictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            members[property.Name] = property.Value;
        }
        return members;
    }

    private static Constant Literal(JsonElement value, string location, int depthLeft) =>
        Constant.From(value, depthLeft, Where(location));

    private static string Child(string location, string key) => location.Length == 0 ? key : $"{location}.{key}";

    private static string Item(string location, string op, int index) => $"{Child(location, op)}[{index}]";

    private static string Where(string location) => location.Length == 0 ? "top level" : location;

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
