using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>A parsed request: <c>get</c> (with <see cref="Expire"/> seconds) or <c>put</c>.</summary>
internal sealed record IdServerRequest(bool IsGet, string Owner, double Expire)
{
    /// <summary>The longest lease an id gets, as for <c>ttl</c> over HTTP: 366 days.</summary>
    public const double MaxExpireSeconds = 366 * 86400;

    /// <summary>
    /// Reads one request as idserver does: the JSON, then <c>action</c>, then <c>owner</c>, then (for a
    /// get) <c>expire</c>; the first thing wrong is the reply, in idserver's words where it has them.
    /// </summary>
    public static bool TryParse(ReadOnlySequence<byte> data, out IdServerRequest request, out string errorReply)
    {
        request = null!;
        var bytes = data.IsSingleSegment ? data.First : data.ToArray();
        if (!Utf8.IsValid(bytes.Span))
        {
            // Python's json.loads fails on bytes that are not UTF-8 too (System.Text.Json would only notice later).
            errorReply = IdServerReply.NotJson;
            return false;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            errorReply = IdServerReply.NotJson;
            return false;
        }
        using (document)
        {
            try
            {
                return TryRead(document.RootElement, out request, out errorReply);
            }
            catch (InvalidOperationException)
            {
                // A string escaping a lone UTF-16 surrogate, which .NET will not decode.
                errorReply = IdServerReply.Error("the request holds a string that is not valid Unicode");
                return false;
            }
        }
    }

    private static bool TryRead(JsonElement root, out IdServerRequest request, out string errorReply)
    {
        request = null!;
        if (root.ValueKind != JsonValueKind.Object)
        {
            errorReply = IdServerReply.Error("the request must be a JSON object");
            return false;
        }
        if (!root.TryGetProperty("action", out var action))
        {
            errorReply = IdServerReply.KeyError("action");
            return false;
        }
        var isGet = action.ValueKind == JsonValueKind.String && action.ValueEquals("get");
        if (!isGet && !(action.ValueKind == JsonValueKind.String && action.ValueEquals("put")))
        {
            errorReply = IdServerReply.UnknownAction(AsPython(action));
            return false;
        }
        if (!root.TryGetProperty("owner", out var ownerElement))
        {
            errorReply = IdServerReply.KeyError("owner");
            return false;
        }
        if (ownerElement.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
        {
            errorReply = IdServerReply.Error($"owner must be a string, not {Kind(ownerElement)}");
            return false;
        }
        // A number names the same owner as its text: 17 and "17" are one owner here.
        var owner = ownerElement.ValueKind == JsonValueKind.String ? ownerElement.GetString()! : ownerElement.GetRawText();
        var expire = 0.0;
        if (isGet && !TryReadExpire(root, out expire, out errorReply))
        {
            return false;
        }
        request = new IdServerRequest(isGet, owner, expire);
        errorReply = "";
        return true;
    }

    private static bool TryReadExpire(JsonElement root, out double expire, out string errorReply)
    {
        expire = 0;
        if (!root.TryGetProperty("expire", out var element))
        {
            errorReply = IdServerReply.KeyError("expire");
            return false;
        }
        if (element.ValueKind != JsonValueKind.Number)
        {
            errorReply = IdServerReply.Error($"expire must be a number of seconds, not {Kind(element)}");
            return false;
        }
        if (!element.TryGetDouble(out expire) || !double.IsFinite(expire) || expire > MaxExpireSeconds)
        {
            errorReply = IdServerReply.Error("expire must be a number of seconds up to 31622400 (366 days)");
            return false;
        }
        errorReply = "";
        return true;
    }

    /// <summary>A value as Python's <c>%s</c> shows it: a string as is, <c>True</c>, <c>None</c>, other JSON as written.</summary>
    private static string AsPython(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        JsonValueKind.Null => "None",
        _ => value.GetRawText(),
    };

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => "a number",
    };
}
