using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Leasehold.Core;
using Leasehold.Protocol;
using Microsoft.AspNetCore.Http.Features;


namespace Leasehold.Server.Http;

/// <summary>Turns raw request parts into checked values, or into the problem that says what is wrong.</summary>
internal static class RequestReading
{
    /// <summary>
    /// Reads a JSON body. An empty body gives <paramref name="whenEmpty"/> (null: the body is required).
    /// Syntax errors, wrong types, unknown fields and text that is not Unicode are <c>invalid-json</c>; an
    /// oversized body is <c>payload-too-large</c>; a body the HTTP framing cannot deliver is <c>bad-request</c>.
    /// </summary>
    public static async Task<(T? Value, IResult? Problem)> ReadJsonAsync<T>(HttpRequest request, JsonTypeInfo<T> type, T? whenEmpty)
        where T : class
    {
        var (body, problem) = await ReadTextBodyAsync(request).ConfigureAwait(false);
        if (problem is not null)
        {
            return (null, problem);
        }
        if (body!.Length == 0)
        {
            return whenEmpty is null ? (null, Problems.Result(ErrorCodes.InvalidJson, "a JSON object body is required")) : (whenEmpty, null);
        }
        try
        {
            var value = JsonSerializer.Deserialize(body, type);
            return value is null
                ? (null, Problems.Result(ErrorCodes.InvalidJson, "the body is JSON null; a JSON object is required"))
                : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.Result(ErrorCodes.InvalidJson, Describe(ex)));
        }
    }

    /// <summary>
    /// Reads the whole body (bounded by the server's request size limit) and checks that it is Unicode
    /// text: valid UTF-8, and no JSON escape that stands for an unpaired surrogate. Anything else would
    /// be stored altered (bytes replaced by U+FFFD) or could never be written back in an answer.
    /// </summary>
    public static async Task<(byte[]? Body, IResult? Problem)> ReadTextBodyAsync(HttpRequest request)
    {
        byte[] body;
        try
        {
            // Straight from the connection's pipe: one array of the body's size, no stream or growing buffer.
            var reader = request.BodyReader;
            while (true)
            {
                var read = await reader.ReadAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
                if (read.IsCanceled)
                {
                    throw new OperationCanceledException("the request body's read was cancelled");
                }
                if (read.IsCompleted)
                {
                    body = read.Buffer.ToArray();
                    reader.AdvanceTo(read.Buffer.End);
                    break;
                }
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }
        catch (BadHttpRequestException ex)
        {
            return (null, Problems.Result(ex));
        }
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return (null, Problems.Result(ErrorCodes.InvalidJson, "the body is not valid UTF-8"));
        }
        // Only an escape can stand for a surrogate: most bodies have none and need no second pass.
        if (body.AsSpan().Contains((byte)'\\') && UnpairedSurrogateAt(body) is { } at)
        {
            return (null, Problems.Result(ErrorCodes.InvalidJson, $"the string at byte {at} " + WellFormedText.Refusal));
        }
        return (body, null);
    }

    private static bool IsWellFormedString(ref Utf8JsonReader reader)
    {
        try
        {
            return WellFormedText.IsWellFormed(reader.GetString());
        }
        catch (InvalidOperationException)
        {
            // The reader itself refuses some unpaired escapes when unescaping.
            return false;
        }
    }

    /// <summary>The offset of the first JSON string or name whose escapes leave an unpaired surrogate, or null.</summary>
    private static long? UnpairedSurrogateAt(byte[] json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = false });
        try
        {
            while (reader.Read())
            {
                // Raw UTF-8 cannot hold a surrogate (checked above); only an escape can.
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped
                    && !IsWellFormedString(ref reader))
                {
                    return reader.TokenStartIndex;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed JSON: the deserializer reports it with its position.
        }
        return null;
    }

    private static string Describe(JsonException ex)
    {
        if (string.IsNullOrEmpty(ex.Path) || ex.Path == "$")
        {
            var end = ex.Message.IndexOf(". ", StringComparison.Ordinal);
            return "malformed JSON: " + (end < 0 ? ex.Message : ex.Message[..(end + 1)]);
        }
        return ex.Message.Contains("could not be mapped", StringComparison.Ordinal)
            ? $"unknown field {ex.Path}"
            : $"the value at {ex.Path} has the wrong type or form";
    }

    /// <summary>The token header as the 128-bit value it encodes (32 hex digits).</summary>
    public static bool TryReadToken(HttpRequest request, out UInt128 token, out IResult? problem)
    {
        token = default;
        problem = null;
        var text = request.Headers[Headers.Token].ToString();
        if (text.Length == 0)
        {
            problem = Problems.Result(ErrorCodes.InvalidToken, $"the {Headers.Token} header is required");
            return false;
        }
        if (text.Length != 32 || !UInt128.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out token))
        {
            problem = Problems.Result(ErrorCodes.InvalidToken, $"the {Headers.Token} header is 32 hexadecimal digits");
            return false;
        }
        return true;
    }

    /// <summary>
    /// The request target's path as the client sent it (still percent-encoded, without the query), also
    /// for an absolute-form target (RFC 9112 section 3.2.2), whose path starts after the authority.
    /// </summary>
    public static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            raw = raw[..query];
        }
        if (raw.StartsWith('/'))
        {
            return raw;
        }
        var authority = raw.IndexOf("://", StringComparison.Ordinal);
        var start = authority < 0 ? -1 : raw.IndexOf('/', authority + 3);
        return start < 0 ? "/" : raw[start..];
    }

    /// <summary>
    /// The resource path after <paramref name="routePrefix"/> in the raw request target. Each segment is
    /// percent-decoded on its own, so <c>a%20b</c> is <c>a b</c> and an encoded <c>%2F</c> is refused
    /// rather than silently splitting a segment.
    /// </summary>
    public static bool TryReadRoutePath(HttpContext context, string routePrefix, out ResourcePath path, out IResult? problem)
    {
        var raw = RawPath(context);
        // Skip the prefix by its segments, not its length: the raw prefix may be percent-encoded.
        var end = 0;
        for (var i = routePrefix.Count(c => c == '/'); i > 0 && end >= 0; i--)
        {
            end = raw.IndexOf('/', end + 1);
        }
        var rest = end >= 0 ? raw[end..] : "/";
        if (rest == "/")
        {
            path = ResourcePath.Root;
            problem = null;
            return true;
        }
        var segments = rest[1..].Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            segments[i] = Uri.UnescapeDataString(segments[i]);
        }
        if (ResourcePath.TryFromSegments(segments, out path, out var error))
        {
            problem = null;
            return true;
        }
        problem = Problems.Result(ErrorCodes.InvalidPath, error);
        return false;
    }

    public static bool TryParsePath(string? text, out ResourcePath path, out IResult? problem)
    {
        var ok = TryReadPath(text, out path, out var refusal);
        problem = ok ? null : Problems.Result(refusal);
        return ok;
    }

    /// <summary>A path as the shared checks read it: a refusal with HTTP's code and detail when it is not valid.</summary>
    public static bool TryReadPath(string? text, out ResourcePath path, out Refusal refusal)
    {
        if (ResourcePath.TryParse(text, out path, out var error))
        {
            refusal = default;
            return true;
        }
        refusal = new Refusal(ErrorCodes.InvalidPath, $"'{text}': {error}");
        return false;
    }

    /// <summary>Seconds from JSON to whole milliseconds; NaN, infinities and negatives are refused.</summary>
    public static bool TryMilliseconds(double? seconds, string name, double max, out long ms, out IResult? problem)
    {
        var ok = TryMilliseconds(seconds, name, max, out ms, out Refusal refusal);
        problem = ok ? null : Problems.Result(refusal);
        return ok;
    }

    /// <summary>Seconds from JSON to whole milliseconds (rounded up); NaN, infinities and negatives are refused.</summary>
    public static bool TryMilliseconds(double? seconds, string name, double max, out long ms, out Refusal refusal)
    {
        ms = 0;
        refusal = default;
        if (seconds is not { } value)
        {
            return true;
        }
        if (!double.IsFinite(value) || value < 0 || value > max)
        {
            refusal = new Refusal(ErrorCodes.InvalidArgument, $"{name} is a number of seconds between 0 and {max}");
            return false;
        }
        ms = (long)Math.Ceiling(value * 1000);
        return true;
    }
}
