using System.Globalization;
using System.Text;

namespace Leasehold.Server.Compat;

/// <summary>
/// Python 2's <c>repr()</c> of a string, as gocept.lockd's messages print it (<c>%r</c>). A string of
/// ASCII characters only is what Python 2's xmlrpclib hands over as a <c>str</c>: <c>'client1'</c>.
/// Any other is a <c>unicode</c>: <c>u'caf\xe9'</c>. The quote is <c>'</c> unless the text holds a
/// <c>'</c> and no <c>"</c>; backslashes and the chosen quote are escaped; tab, newline and return
/// print as <c>\t</c>, <c>\n</c>, <c>\r</c>; other control characters and DEL as <c>\xNN</c>; in a
/// <c>unicode</c>, every non-ASCII character as <c>\xNN</c>, <c>\uNNNN</c> or <c>\UNNNNNNNN</c>.
/// </summary>
internal static class PythonRepr
{
    /// <summary>Python's <c>repr(None)</c>, for a holder without an owner.</summary>
    public const string None = "None";

    public static string Of(string? text)
    {
        if (text is null)
        {
            return None;
        }
        var unicode = text.Any(c => c > '\u007f');
        var quote = text.Contains('\'', StringComparison.Ordinal) && !text.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var result = new StringBuilder(text.Length + 3);
        if (unicode)
        {
            result.Append('u');
        }
        result.Append(quote);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == quote || c == '\\')
            {
                result.Append('\\').Append(c);
            }
            else if (c == '\t')
            {
                result.Append("\\t");
            }
            else if (c == '\n')
            {
                result.Append("\\n");
            }
            else if (c == '\r')
            {
                result.Append("\\r");
            }
            else if (c >= ' ' && c < '\u007f')
            {
                result.Append(c);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                result.Append("\\U").Append(char.ConvertToUtf32(c, text[++i]).ToString("x8", CultureInfo.InvariantCulture));
            }
            else if (c >= '\u0100')
            {
                result.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                result.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
        }
        return result.Append(quote).ToString();
    }
}
