using System.Globalization;
using System.Text;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// Text as Python 2's <c>json.dumps</c> writes it (<c>ensure_ascii</c>): quotes, backslashes and the
/// short escapes <c>\n \r \t \b \f</c>; every other character outside printable ASCII as a lower-case
/// <c>\uXXXX</c> (UTF-16 units, so a character beyond the BMP is a surrogate pair).
/// </summary>
internal static class PythonJson
{
    public static string String(string value)
    {
        var text = new StringBuilder(value.Length + 2);
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\r':
                    text.Append("\\r");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                case '\b':
                    text.Append("\\b");
                    break;
                case '\f':
                    text.Append("\\f");
                    break;
                case < ' ' or > '~':
                    text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    text.Append(c);
                    break;
            }
        }
        return text.Append('"').ToString();
    }
}
