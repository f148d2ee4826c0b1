using System.Text;

namespace Leasehold.Fuzz.Targets;

/// <summary>Inputs as a reader can see them: text with control and non-ASCII characters escaped, or hex when it is not UTF-8.</summary>
internal static class Printing
{
    public static string Text(byte[] bytes)
    {
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return "hex " + Generators.Bytes.Hex(bytes);
        }
        var text = Encoding.UTF8.GetString(bytes);
        var shown = new StringBuilder(Math.Min(text.Length, 4000) + 16);
        foreach (var c in text.Length > 4000 ? text[..4000] : text)
        {
            shown.Append(c is < ' ' or > '~' ? $"\\u{(int)c:x4}" : c);
        }
        return (text.Length > 4000 ? shown.Append($"... ({bytes.Length} bytes)") : shown).ToString();
    }
}
