using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// py-lockable's predicate (<c>_get_requirements</c>): by default a resource must be on this host and
/// online, so the requirements start as <c>{"hostname": host, "online": true}</c> and the user's keys
/// replace them one by one (a shallow update). Setting <c>hostname</c> or <c>online</c> to null removes
/// that default, which is how a user selects offline resources or any host; every other value,
/// <c>false</c> included, stays a constraint.
/// </summary>
public static class LockableDefaults
{
    /// <summary>
    /// The requirements with the defaults applied. <paramref name="requirements"/> is a JSON object (or
    /// undefined/null, read as no requirements, as py-lockable reads an empty value).
    /// </summary>
    public static JsonElement Apply(JsonElement requirements, string hostname)
    {
        ArgumentNullException.ThrowIfNull(hostname);
        if (requirements.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
        {
            throw new ArgumentException("requirements must be a JSON object", nameof(requirements));
        }
        // Python's dict.update: a replaced key keeps its place, new keys follow in order.
        var merged = new OrderedDictionary<string, JsonElement?>(StringComparer.Ordinal)
        {
            ["hostname"] = null,
            ["online"] = null,
        };
        if (requirements.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in requirements.EnumerateObject())
            {
                merged[property.Name] = property.Value;
            }
        }
        return JsonText.Build(writer =>
        {
            writer.WriteStartObject();
            foreach (var (name, value) in merged)
            {
                if (value is not { } given)
                {
                    WriteDefault(writer, name, hostname);
                }
                else if (given.ValueKind != JsonValueKind.Null || (name != "hostname" && name != "online"))
                {
                    writer.WritePropertyName(name);
                    given.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        });
    }

    // Only the two defaults are ever left without a user value.
    private static void WriteDefault(Utf8JsonWriter writer, string name, string hostname)
    {
        if (name == "hostname")
        {
            writer.WriteString(name, hostname);
        }
        else
        {
            writer.WriteBoolean(name, true);
        }
    }
}
