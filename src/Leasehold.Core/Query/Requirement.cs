using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// A compiled requirement query: MongoDB-style conditions over a resource's JSON attributes, with the
/// semantics of mongoquery as py-lockable 0.13 uses it (see docs in the matcher classes for each rule).
/// Compile once when the request arrives, then call <see cref="Matches"/> for each candidate; matching
/// walks a tree of prepared nodes and never re-reads the query. Instances are immutable and thread-safe.
/// </summary>
public sealed class Requirement
{
    private readonly Matcher _root;

    private Requirement(Matcher root, string text)
    {
        _root = root;
        Text = text;
    }

    /// <summary>The empty query <c>{}</c>, which every attribute set matches.</summary>
    public static Requirement Any { get; } = new(AlwaysMatcher.Instance, "{}");

    /// <summary>The query as compact JSON (keys in their original order), for display and history.</summary>
    public string Text { get; }

    /// <summary>
    /// Compiles <paramref name="query"/>, which must be a JSON object. On failure returns false and
    /// <paramref name="error"/> names the operator or literal at fault and where it is, e.g.
    /// <c>unknown operator '$foo' at os</c>. The compiled form keeps no reference to the query's
    /// document, which may be disposed afterwards.
    /// </summary>
    public static bool TryCompile(JsonElement query, out Requirement requirement, out string error)
    {
        requirement = Any;
        try
        {
            requirement = new Requirement(QueryCompiler.Compile(query), JsonText.Compact(query));
            error = "";
            return true;
        }
        catch (QueryCompileException failure)
        {
            error = failure.Message;
            return false;
        }
        catch (InvalidOperationException failure)
        {
            // System.Text.Json refuses to decode a string escaping a lone UTF-16 surrogate ("\ud800").
            error = $"the query holds an invalid string: {failure.Message}";
            return false;
        }
    }

    /// <summary>
    /// A requirement from stored state that this version refuses to compile (say, a regular expression
    /// construct no longer supported): it keeps its text, for display and for comparing requests, and
    /// matches nothing, so the lease or waiter that carries it is restored as it was.
    /// </summary>
    public static Requirement Refused(string query)
    {
        string text;
        try
        {
            using var document = JsonDocument.Parse(query);
            text = JsonText.Compact(document.RootElement);
        }
        catch (JsonException)
        {
            text = query;
        }
        return new Requirement(NeverMatcher.Instance, text);
    }

    /// <summary>Whether <paramref name="attributes"/> (normally a resource's JSON object) satisfies the query.</summary>
    public bool Matches(JsonElement attributes) => _root.Matches(Value.Of(attributes));

    public override string ToString() => Text;
}
