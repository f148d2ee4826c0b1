using System.Text.Json;
using System.Text.Json.Nodes;
using Leasehold.Server.Security;

namespace Leasehold.Cli.Commands.Admin;

/// <summary>
/// The server's keys file (<c>Leasehold:Security:KeysFile</c>): a settings file holding only
/// <c>Leasehold:Security:ApiKeys</c>, hashes and never keys. Written whole to a temporary file, readable by its
/// owner alone, and renamed over the old one, so the server (which re-reads it on change) never sees half a file.
/// </summary>
internal sealed class KeysFile
{
    private readonly string _path;
    private readonly JsonObject _root;

    private KeysFile(string path, JsonObject root)
    {
        _path = path;
        _root = root;
    }

    public static KeysFile Open(string path, bool mustExist)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            if (mustExist)
            {
                throw new UsageException($"--file: {path} does not exist");
            }
            return new KeysFile(full, new JsonObject());
        }
        try
        {
            return JsonNode.Parse(File.ReadAllText(full), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) is JsonObject root
                ? new KeysFile(full, root)
                : throw new UsageException($"--file: {path} is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new UsageException($"--file: {path} is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>The <c>ApiKeys</c> object, made when missing.</summary>
    public JsonObject Keys => Child(Child(Child(_root, "Leasehold"), "Security"), "ApiKeys");

    public JsonObject? Find(string id) => Keys[id] as JsonObject;

    public void Save()
    {
        var directory = Path.GetDirectoryName(_path)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(_path)}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, _root, KeysFileJson.Default.JsonObject);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, _path, overwrite: true);
    }

    /// <summary>An entry for a new key: its hash, principal, roles, and when it was made.</summary>
    public static JsonObject Entry(string key, string principal, IEnumerable<string> roles, DateTimeOffset created, DateTimeOffset? expires)
    {
        var entry = new JsonObject
        {
            ["Hash"] = ApiKeys.Hash(key),
            ["Principal"] = principal,
            ["Roles"] = new JsonArray([.. roles.Select(r => (JsonNode)JsonValue.Create(r))]),
            ["Created"] = created.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (expires is { } e)
        {
            entry["Expires"] = e.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        }
        return entry;
    }

    private static JsonObject Child(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject child)
        {
            return child;
        }
        var made = new JsonObject();
        parent[name] = made;
        return made;
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class KeysFileJson : System.Text.Json.Serialization.JsonSerializerContext;
