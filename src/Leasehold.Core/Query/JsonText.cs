using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>Writing JSON values to compact text and building new values in memory (no I/O involved).</summary>
internal static class JsonText
{
    // Text is for people to read back (status pages, history), so non-ASCII such as a hostname stays
    // readable instead of becoming \u escapes; quotes, backslashes and control characters are still escaped.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Compact(JsonElement element) => Encoding.UTF8.GetString(Write(element.WriteTo).Span);

    public static JsonElement EmptyObject() => Build(writer =>
    {
        writer.WriteStartObject();
        writer.WriteEndObject();
    });

    /// <summary>A standalone element built by <paramref name="write"/>, independent of any document's lifetime.</summary>
    public static JsonElement Build(Action<Utf8JsonWriter> write)
    {
        using var document = JsonDocument.Parse(Write(write));
        return document.RootElement.Clone();
    }

    private static ReadOnlyMemory<byte> Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }
        return buffer.WrittenMemory;
    }
}
