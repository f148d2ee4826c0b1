using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// py-lockable's <c>k=v&amp;k2=v2</c> requirement form (<c>parse_str_requirements</c> followed by
/// <c>unflatten</c>), with its rules and error texts: every part needs '=' and a non-empty value, a second
/// '=' is an error, <c>true</c>/<c>false</c> in any case are booleans and every other value stays a
/// string, a repeated key keeps its last value, and dotted keys become nested objects.
/// </summary>
internal static class Shorthand
{
    public static bool TryParse(string text, out JsonElement query, out string error)
    {
        query = default;
        var flat = new OrderedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var part in text.Split('&'))
        {
            var equals = part.IndexOf('=');
            if (equals >= 0 && part.IndexOf('=', equals + 1) >= 0)
            {
                // Python's `key, value = part.split('=')` fails here with "too many values to unpack".
                error = $"Too many '=' in ({part})";
                return false;
            }
            if (equals < 0 || equals == part.Length - 1)
            {
                error = $"Missing value ({part})";
                return false;
            }
            flat[part[..equals]] = ParseValue(part[(equals + 1)..]);
        }
        if (!TryUnflatten(flat, out var nested, out error))
        {
            return false;
        }
        query = JsonText.Build(writer => Write(writer, nested));
        return true;
    }

    private static object ParseValue(string value) =>
        value.Equals("true", StringComparison.OrdinalIgnoreCase) ? true
        : value.Equals("false", StringComparison.OrdinalIgnoreCase) ? false
        : value;

    private static bool TryUnflatten(
        OrderedDictionary<string, object> flat, out OrderedDictionary<string, object> root, out string error)
    {
        root = new OrderedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in flat)
        {
            if (key.StartsWith('.') || key.EndsWith('.') || key.Contains("..", StringComparison.Ordinal))
            {
                error = $"Invalid key format: {key}";
                return false;
            }
            var names = key.Split('.');
            var node = root;
            foreach (var name in names[..^1])
            {
                if (!node.TryGetValue(name, out var child))
                {
                    child = new OrderedDictionary<string, object>(StringComparer.Ordinal);
                    node[name] = child;
                }
                if (child is not OrderedDictionary<string, object> inner)
                {
                    // Python's unflatten crashes here (setdefault on a str); say what is wrong instead.
                    error = $"Conflicting key: {key} ({name} already has a value)";
                    return false;
                }
                node = inner;
            }
            // A later plain key replaces an earlier nested object, as Python's assignment does.
            node[names[^1]] = value;
        }
        error = "";
        return true;
    }

    private static void Write(Utf8JsonWriter writer, OrderedDictionary<string, object> node)
    {
        writer.WriteStartObject();
        foreach (var (name, value) in node)
        {
            writer.WritePropertyName(name);
            switch (value)
            {
                case bool flag:
                    writer.WriteBooleanValue(flag);
                    break;
                case string text:
                    writer.WriteStringValue(text);
                    break;
                default:
                    Write(writer, (OrderedDictionary<string, object>)value);
                    break;
            }
        }
        writer.WriteEndObject();
    }
}
