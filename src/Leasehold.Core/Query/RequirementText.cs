using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// Reads requirements the way py-lockable's <c>parse_requirements</c> does: text starting with '{'
/// (after trimming) is a JSON object, anything else is the <c>k=v&amp;k2=v2</c> shorthand, and empty
/// text means no requirements (<c>{}</c>).
/// </summary>
public static class RequirementText
{
    /// <summary>
    /// Parses <paramref name="text"/> into a query object. Shorthand values are strings except
    /// <c>true</c>/<c>false</c> in any case, which become booleans (so <c>n=1</c> matches only the string
    /// "1"), and dotted keys become nested objects. On failure <paramref name="error"/> says why, in
    /// py-lockable's words where it has them (e.g. <c>Missing value (a=)</c>).
    /// </summary>
    public static bool TryParse(string? text, out JsonElement query, out string error)
    {
        var trimmed = (text ?? "").Trim();
        if (trimmed.Length == 0)
        {
            query = JsonText.EmptyObject();
            error = "";
            return true;
        }
        return trimmed.StartsWith('{')
            ? TryParseJson(trimmed, out query, out error)
            : Shorthand.TryParse(trimmed, out query, out error);
    }

    private static bool TryParseJson(string text, out JsonElement query, out string error)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            query = document.RootElement.Clone();
            error = "";
            return true;
        }
        catch (JsonException failure)
        {
            query = default;
            error = $"Invalid JSON: {failure.Message}";
            return false;
        }
    }
}
