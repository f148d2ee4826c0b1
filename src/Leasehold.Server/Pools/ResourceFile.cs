using System.Globalization;
using System.Text.Json;
using Leasehold.Core;

namespace Leasehold.Server.Pools;

/// <summary>
/// py-lockable's <c>resources.json</c>: a JSON array of objects, each with a unique, non-null <c>id</c>.
/// The checks and their messages are py-lockable's, so a file it accepts is accepted here and a file it
/// refuses is refused with the same words.
/// </summary>
public static class ResourceFile
{
    /// <summary>Reads and checks a file; on failure <paramref name="error"/> is py-lockable's message.</summary>
    public static bool TryLoad(string file, out IReadOnlyList<JsonElement> resources, out string error)
    {
        resources = [];
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (IOException ex)
        {
            error = $"cannot read {file}: {ex.Message}";
            return false;
        }
        catch (UnauthorizedAccessException ex)
        {
            error = $"cannot read {file}: {ex.Message}";
            return false;
        }
        return TryParse(text, out resources, out error);
    }

    public static bool TryParse(string json, out IReadOnlyList<JsonElement> resources, out string error)
    {
        resources = [];
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            error = $"invalid resources json file: {ex.Message}";
            return false;
        }
        if (root.ValueKind != JsonValueKind.Array)
        {
            error = $"invalid resources json file: expected a list, found {root.ValueKind.ToString().ToLowerInvariant()}";
            return false;
        }
        var list = new List<JsonElement>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = new List<string>();
        var index = 0;
        foreach (var item in root.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                error = $"Invalid json, resource {index} is not an object";
                return false;
            }
            if (!item.TryGetProperty("id", out var id) || id.ValueKind == JsonValueKind.Null)
            {
                error = "Invalid json, id property is missing";
                return false;
            }
            var key = IdText(id);
            if (!seen.Add(key) && !duplicates.Contains(key))
            {
                duplicates.Add(key);
            }
            list.Add(item);
            index++;
        }
        if (duplicates.Count > 0)
        {
            error = $"Invalid json, duplicate ids in [{string.Join(", ", duplicates.Select(d => "'" + d + "'"))}]";
            return false;
        }
        resources = list;
        error = "";
        return true;
    }

    /// <summary>The id as the text it names a resource by: a string as is, a number as written.</summary>
    public static string IdText(JsonElement id) => id.ValueKind switch
    {
        JsonValueKind.String => id.GetString()!,
        JsonValueKind.Number => id.GetRawText(),
        _ => id.GetRawText(),
    };

    /// <summary>Expands an id list: <c>name-0..name-9</c> (a numeric range) or ids separated by commas.</summary>
    public static bool TryExpandIds(string spec, out IReadOnlyList<string> ids, out string error)
    {
        var result = new List<string>();
        foreach (var part in spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.IndexOf("..", StringComparison.Ordinal);
            if (range < 0)
            {
                result.Add(part);
                continue;
            }
            var (firstPrefix, first) = SplitNumber(part[..range]);
            var (lastPrefix, last) = SplitNumber(part[(range + 2)..]);
            if (first is null || last is null || firstPrefix != lastPrefix || last < first || last - first > 100_000)
            {
                ids = [];
                error = $"'{part}' is not a range like name-0..name-9";
                return false;
            }
            for (var n = first.Value; n <= last.Value; n++)
            {
                result.Add(firstPrefix + n.ToString(CultureInfo.InvariantCulture));
            }
        }
        ids = result;
        error = result.Count == 0 ? "the id list is empty" : "";
        return result.Count > 0;
    }

    private static (string Prefix, long? Number) SplitNumber(string text)
    {
        var digits = text.Length;
        while (digits > 0 && char.IsAsciiDigit(text[digits - 1]))
        {
            digits--;
        }
        return digits == text.Length
            ? (text, null)
            : (text[..digits], long.Parse(text[digits..], CultureInfo.InvariantCulture));
    }

    /// <summary>The path a resource gets under its pool: the pool plus its id as the last segment.</summary>
    public static bool TryPathOf(ResourcePath pool, string id, out ResourcePath path, out string error)
        => ResourcePath.TryFromSegments([.. pool.Segments, id], out path, out error);
}
