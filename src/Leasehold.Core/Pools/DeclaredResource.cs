using System.Text.Json;

namespace Leasehold.Core.Pools;

/// <summary>A path declared with attributes, so that pool requests can choose it by requirement.</summary>
public sealed class DeclaredResource
{
    public required ResourcePath Path { get; init; }

    /// <summary>The attributes as given (a JSON object), kept as text for the log and snapshots.</summary>
    public required string AttributesJson { get; set; }

    /// <summary>The parsed attributes; requirements are matched against these.</summary>
    public JsonElement Attributes { get; set; }

    /// <summary>
    /// The engine's release counter when a lease on this resource last ended (0: never held). Free
    /// resources are chosen least recently released first, to spread wear.
    /// </summary>
    public long ReleasedSeq { get; set; }

    public static bool TryParseAttributes(string json, out JsonElement attributes, out string error)
    {
        attributes = default;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                error = "attributes are a JSON object";
                return false;
            }
            if (!WellFormedText.IsWellFormed(document.RootElement))
            {
                error = "attributes: a name or string " + WellFormedText.Refusal;
                return false;
            }
            attributes = document.RootElement.Clone();
            error = "";
            return true;
        }
        catch (JsonException ex)
        {
            error = "attributes are not valid JSON: " + ex.Message;
            return false;
        }
    }
}
