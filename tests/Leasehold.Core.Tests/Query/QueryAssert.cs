using System.Text.Json;
using Leasehold.Core.Query;

namespace Leasehold.Core.Tests.Query;

/// <summary>Compiles and runs queries written as JSON text, so the test tables read like the queries users send.</summary>
internal static class QueryAssert
{
    // Deeper than JsonDocument's default of 64, so the compiler's own depth limit can be reached.
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 256 };

    public static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text, Options);
        return document.RootElement.Clone();
    }

    public static Requirement Compile(string query)
    {
        var compiled = Requirement.TryCompile(Json(query), out var requirement, out var error);
        Assert.True(compiled, $"{query} did not compile: {error}");
        Assert.Equal("", error);
        return requirement;
    }

    public static bool Matches(string query, string attributes) => Compile(query).Matches(Json(attributes));

    public static string CompileError(string query)
    {
        var compiled = Requirement.TryCompile(Json(query), out _, out var error);
        Assert.False(compiled, $"{query} compiled, but should not");
        return error;
    }
}
