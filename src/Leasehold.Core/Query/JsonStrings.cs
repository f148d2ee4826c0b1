using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// Reading attribute strings and keys without letting a malformed one throw out of matching. JSON may
/// escape a lone UTF-16 surrogate (<c>"\ud800"</c>), which System.Text.Json refuses to decode or
/// compare. Query strings are always valid (the compiler refuses others), so such an attribute string
/// equals none of them: it simply does not match, and the rest of the attributes still can.
/// </summary>
internal static class JsonStrings
{
    /// <summary>The string value, or false when there is none (or it cannot be decoded).</summary>
    public static bool TryGet(JsonElement element, out string text)
    {
        text = "";
        if (element.ValueKind != JsonValueKind.String)
        {
            return false;
        }
        try
        {
            text = element.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Whether a string element holds exactly <paramref name="text"/>.</summary>
    public static bool Equal(JsonElement element, string text)
    {
        try
        {
            return element.ValueEquals(text);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary><see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> that steps over undecodable keys.</summary>
    public static bool TryGetProperty(JsonElement obj, string name, out JsonElement value)
    {
        try
        {
            return obj.TryGetProperty(name, out value);
        }
        catch (InvalidOperationException)
        {
            return TryGetPropertySlowly(obj, name, out value);
        }
    }

    // The rare path: compare key by key, skipping the undecodable ones; the last duplicate wins, as above.
    private static bool TryGetPropertySlowly(JsonElement obj, string name, out JsonElement value)
    {
        value = default;
        var found = false;
        foreach (var property in obj.EnumerateObject())
        {
            try
            {
                if (property.NameEquals(name))
                {
                    value = property.Value;
                    found = true;
                }
            }
            catch (InvalidOperationException)
            {
                // An undecodable key is never the valid key being looked for.
            }
        }
        return found;
    }
}
