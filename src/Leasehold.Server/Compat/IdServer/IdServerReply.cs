namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// The replies, with the separators of idserver's <c>json.dumps</c> (<c>", "</c> and <c>": "</c>) and
/// always pure ASCII. <c>error</c> comes first, then <c>value</c> or <c>message</c>: Python 2 wrote them
/// in hash order (<c>error</c> last), but idserver's clients parse JSON, so a fixed readable order is kept.
/// </summary>
internal static class IdServerReply
{
    public const string Released = "{\"error\": 0}";

    public static readonly string Exhausted = Error("id exhausted");

    public static readonly string NotJson = Error("No JSON object could be decoded");

    public static readonly string TooLarge = Error($"request larger than {UdpFrontEnd.MaxRequestBytes} bytes");

    public static readonly string LineTooLong = Error($"request line longer than {TcpFrontEnd.MaxLineBytes} bytes");

    /// <summary>Sent to a TCP connection over <c>Leasehold:IdServer:MaxConnections</c> before it is closed.</summary>
    public static readonly string TooManyConnections = Error("too many connections");

    /// <param name="json">The id as JSON: a string from <see cref="PythonJson.String"/>, or a number as configured.</param>
    public static string Value(string json) => "{\"error\": 0, \"value\": " + json + "}";

    public static string Error(string message) => "{\"error\": 1, \"message\": " + PythonJson.String(message) + "}";

    /// <summary>idserver's answer to a missing key: the literal <c>KeyError: '</c> + key + <c>'</c>.</summary>
    public static string KeyError(string key) => Error($"KeyError: '{key}'");

    public static string UnknownAction(string shown) => Error($"Action \"{shown}\" is not recognized.");
}
