using System.Text.Json;

namespace Leasehold.Core;

/// <summary>
/// Whether text is well-formed Unicode: no unpaired UTF-16 surrogate. JSON lets a client write one as an
/// escape (<c>"\ud800"</c>) and .NET reads it into a string, but no JSON writer can write it back: a
/// value stored with one would make every later answer that shows it fail. The engine refuses such text.
/// </summary>
public static class WellFormedText
{
    public static bool IsWellFormed(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!char.IsSurrogate(c))
            {
                continue;
            }
            if (!char.IsHighSurrogate(c) || i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
            {
                return false;
            }
            i++;
        }
        return true;
    }

    /// <summary>Whether every name and string in <paramref name="element"/> is well-formed.</summary>
    public static bool IsWellFormed(JsonElement element)
    {
        try
        {
            return Walk(element);
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to unescape some unpaired surrogates at all.
            return false;
        }
    }

    private static bool Walk(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsWellFormed(element.GetString());
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!IsWellFormed(property.Name) || !Walk(property.Value))
                    {
                        return false;
                    }
                }
                return true;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!Walk(item))
                    {
                        return false;
                    }
                }
                return true;
            default:
                return true;
        }
    }

    /// <summary>The refusal's wording, shared by every place that checks.</summary>
    public const string Refusal = "holds an unpaired UTF-16 surrogate (\\ud800-\\udfff alone), which is not Unicode text";
}
