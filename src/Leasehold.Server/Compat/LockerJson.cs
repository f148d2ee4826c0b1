using System.Globalization;
using System.Text;

namespace Leasehold.Server.Compat;

/// <summary>
/// Locker's answers, byte for byte as Python's <c>json.dumps</c> writes them: <c>", "</c> and <c>": "</c>
/// between items, keys in Locker's order, every character outside printable ASCII escaped (<c>ensure_ascii</c>).
/// </summary>
internal static class LockerJson
{
    public const string ContentType = "application/json";

    public static string Granted(string token) => $"{{\"ok\": true, \"token\": {Text(token)}}}";

    public static string Refused(string? lockedBy) => $"{{\"ok\": false, \"lockedBy\": {Text(lockedBy)}}}";

    public static string Ok(bool ok) => ok ? "{\"ok\": true}" : "{\"ok\": false}";

    public static string LockedBy(string? holder) => $"{{\"lockedBy\": {Text(holder)}}}";

    /// <summary>A request Leasehold cannot take (a path it does not allow, an id too long): the route's negative answer and why.</summary>
    public static string Error(string route, string error) => route switch
    {
        "canhaz" => $"{{\"ok\": false, \"lockedBy\": null, \"error\": {Text(error)}}}",
        "nowant" => $"{{\"ok\": false, \"error\": {Text(error)}}}",
        _ => $"{{\"lockedBy\": null, \"error\": {Text(error)}}}",
    };

    /// <summary>A JSON string (or <c>null</c>) as <c>json.dumps</c> writes it.</summary>
    public static string Text(string? value)
    {
        if (value is null)
        {
            return "null";
        }
        var result = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    result.Append("\\\"");
                    break;
                case '\\':
                    result.Append("\\\\");
                    break;
                case '\n':
                    result.Append("\\n");
                    break;
                case '\r':
                    result.Append("\\r");
                    break;
                case '\t':
                    result.Append("\\t");
                    break;
                case '\b':
                    result.Append("\\b");
                    break;
                case '\f':
                    result.Append("\\f");
                    break;
                case >= ' ' and <= '~':
                    result.Append(c);
                    break;
                default:
                    result.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
        }
        return result.Append('"').ToString();
    }
}
