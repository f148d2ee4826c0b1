using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Leasehold.Server.Compat;

/// <summary>An XML-RPC call: the method's name and its arguments (string, long, bool, double, byte[], lists, dictionaries, null).</summary>
internal sealed record XmlRpcCall(string Method, IReadOnlyList<object?> Arguments);

/// <summary>A <c>dateTime.iso8601</c> argument, kept as its text.</summary>
internal sealed record XmlRpcDateTime(string Text);

/// <summary>A well-formed document that is not an XML-RPC method call.</summary>
internal sealed class XmlRpcFormatException(string message) : Exception(message);

/// <summary>
/// The XML-RPC wire format with System.Xml alone: reads a <c>methodCall</c> (no DTD, bounded size and
/// nesting) and writes answers the way Python's xmlrpclib does, line breaks included.
/// </summary>
internal static class XmlRpc
{
    public const string ContentType = "text/xml";

    /// <summary>The largest request document read, in characters.</summary>
    public const int MaxDocumentChars = 1 << 20;

    private const int MaxNesting = 64;

    /// <summary>
    /// The deepest element read: room for <see cref="MaxNesting"/> values (three elements each) inside the call's
    /// own. Checked before the tree is built, which takes time quadratic in the depth (a megabyte of nested
    /// elements would hold the request for minutes).
    /// </summary>
    private const int MaxElementDepth = 4 * MaxNesting + 16;
    private const string Declaration = "<?xml version='1.0'?>\n";

    /// <summary>Parses a request; throws <see cref="XmlException"/> (not well-formed) or <see cref="XmlRpcFormatException"/>.</summary>
    public static XmlRpcCall ParseCall(Stream body)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxDocumentChars,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
        };
        var start = body.Position;
        using (var scan = XmlReader.Create(body, settings))
        {
            try
            {
                while (scan.Read())
                {
                    if (scan.Depth > MaxElementDepth)
                    {
                        throw new XmlRpcFormatException($"elements are nested more than {MaxElementDepth} deep");
                    }
                }
            }
            catch (ArgumentException ex)
            {
                // System.Xml's reader fails this way on some bytes that are not text in an XML declaration
                // (found by the fuzzing harness): the document is not well-formed, not a server error.
                throw new XmlException("the document's bytes cannot be read as text: " + ex.Message, ex);
            }
        }
        body.Position = start;
        using var reader = XmlReader.Create(body, settings);
        var root = XDocument.Load(reader).Root!;
        if (root.Name != "methodCall")
        {
            throw new XmlRpcFormatException($"the document is <{root.Name}>, not <methodCall>");
        }
        var name = root.Element("methodName") ?? throw new XmlRpcFormatException("<methodName> is missing");
        var arguments = new List<object?>();
        foreach (var param in root.Element("params")?.Elements("param") ?? [])
        {
            arguments.Add(ReadValue(param.Element("value") ?? throw new XmlRpcFormatException("a <param> has no <value>"), 0));
        }
        return new XmlRpcCall(name.Value, arguments);
    }

    private static object? ReadValue(XElement value, int depth)
    {
        if (depth > MaxNesting)
        {
            throw new XmlRpcFormatException($"values are nested more than {MaxNesting} deep");
        }
        var typed = value.Elements().FirstOrDefault();
        if (typed is null)
        {
            return value.Value;
        }
        var text = typed.Value;
        switch (typed.Name.LocalName)
        {
            case "string":
                return text;
            case "int" or "i4" or "i8":
                return long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                    ? number : throw new XmlRpcFormatException($"'{text}' is not an integer");
            case "boolean":
                return text.Trim() switch
                {
                    "0" => false,
                    "1" => true,
                    _ => throw new XmlRpcFormatException($"'{text}' is not a boolean (0 or 1)"),
                };
            case "double":
                return double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var real)
                    ? real : throw new XmlRpcFormatException($"'{text}' is not a double");
            case "base64":
                try
                {
                    return Convert.FromBase64String(text);
                }
                catch (FormatException)
                {
                    throw new XmlRpcFormatException("a <base64> value is not base64");
                }
            case "dateTime.iso8601":
                return new XmlRpcDateTime(text);
            case "nil":
                return null;
            case "array":
                return (typed.Element("data")?.Elements("value") ?? []).Select(v => ReadValue(v, depth + 1)).ToList();
            case "struct":
                var members = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var member in typed.Elements("member"))
                {
                    members[member.Element("name")?.Value ?? throw new XmlRpcFormatException("a <member> has no <name>")] =
                        ReadValue(member.Element("value") ?? throw new XmlRpcFormatException("a <member> has no <value>"), depth + 1);
                }
                return members;
            default:
                throw new XmlRpcFormatException($"unknown value type <{typed.Name}>");
        }
    }

    /// <summary>A successful answer carrying <paramref name="value"/> (null, string, bool, int, or a list of those).</summary>
    public static string Response(object? value)
    {
        var text = new StringBuilder(Declaration).Append("<methodResponse>\n<params>\n<param>\n");
        WriteValue(text, value);
        return text.Append("</param>\n</params>\n</methodResponse>\n").ToString();
    }

    public static string Fault(int code, string message)
    {
        var text = new StringBuilder(Declaration).Append("<methodResponse>\n<fault>\n<value><struct>\n");
        text.Append("<member>\n<name>faultCode</name>\n");
        WriteValue(text, code);
        text.Append("</member>\n<member>\n<name>faultString</name>\n");
        WriteValue(text, message);
        return text.Append("</member>\n</struct></value>\n</fault>\n</methodResponse>\n").ToString();
    }

    private static void WriteValue(StringBuilder text, object? value)
    {
        switch (value)
        {
            case null:
                text.Append("<value><nil/></value>");
                break;
            case string s:
                text.Append("<value><string>").Append(Escape(s)).Append("</string></value>\n");
                break;
            case bool b:
                text.Append("<value><boolean>").Append(b ? '1' : '0').Append("</boolean></value>\n");
                break;
            case int i:
                text.Append("<value><int>").Append(i.ToString(CultureInfo.InvariantCulture)).Append("</int></value>\n");
                break;
            case System.Collections.IEnumerable items:
                text.Append("<value><array><data>\n");
                foreach (var item in items)
                {
                    WriteValue(text, item);
                }
                text.Append("</data></array></value>\n");
                break;
            default:
                throw new ArgumentException($"cannot write a {value.GetType().Name} as XML-RPC", nameof(value));
        }
    }

    /// <summary>
    /// xmlrpclib's escape: the three characters markup needs. Characters XML cannot hold at all (control
    /// characters, lone surrogates), which a parser's error message may quote from the request, become U+FFFD:
    /// written as they are, they would make the answer itself unreadable.
    /// </summary>
    private static string Escape(string text)
    {
        var escaped = text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
        if (!escaped.Any(c => !XmlConvert.IsXmlChar(c)))
        {
            return escaped;
        }
        var clean = new StringBuilder(escaped.Length);
        for (var i = 0; i < escaped.Length; i++)
        {
            if (i + 1 < escaped.Length && XmlConvert.IsXmlSurrogatePair(escaped[i + 1], escaped[i]))
            {
                clean.Append(escaped, i++, 2);
            }
            else
            {
                clean.Append(XmlConvert.IsXmlChar(escaped[i]) ? escaped[i] : '\ufffd');
            }
        }
        return clean.ToString();
    }
}
