namespace Leasehold.Server.Compat;

/// <summary>
/// gocept.lockd's fault strings, as its Python 2 server formats them: <c>"%s:%s" % (exc_type, exc_value)</c>.
/// All are sent with faultCode 1. docs/compat/lockd.md lists them.
/// </summary>
internal static class LockdFaults
{
    public const int Code = 1;

    public static string Exception(string message) => "<type 'exceptions.Exception'>:" + message;

    public static string TypeError(string message) => "<type 'exceptions.TypeError'>:" + message;

    public static string AlreadyLocked(string? holder) => Exception("Resource already locked by " + PythonRepr.Of(holder));

    public static string NotLocked() => Exception("Resource not locked");

    public static string WrongClient(string? holder, string client)
        => Exception($"Resource locked by {PythonRepr.Of(holder)} cannot be unlocked by {PythonRepr.Of(client)}");

    /// <summary>The client's name holds the resource, but through another protocol, with a secret token.</summary>
    public static string HeldWithToken(string client)
        => Exception($"Resource locked by {PythonRepr.Of(client)} with a token, not through lockd; only that token can unlock it");

    public static string NotSupported(string method) => Exception($"method \"{method}\" is not supported");

    /// <summary>
    /// Python 2's wording for a call with the wrong number of arguments; both counts include <c>self</c>.
    /// The original names its decorator's inner function (<c>wrapped()</c>) here; naming the method called
    /// is clearer, and docs/compat/lockd.md says so.
    /// </summary>
    public static string ArgumentCount(string function, int expected, int given)
        => TypeError($"{function}() takes exactly {expected} argument{(expected == 1 ? "" : "s")} ({given} given)");

    /// <summary>Leasehold's own check: the original let the value fail in its file-name arithmetic instead.</summary>
    public static string NotAString(string function, int position, object? value)
        => TypeError($"{function}() argument {position} must be string, not {PythonType(value)}");

    public static string InvalidName(string resource, string reason) => Exception($"Invalid resource name {PythonRepr.Of(resource)}: {reason}");

    public static string ClientTooLong(int max) => Exception($"a client name has at most {max} characters");

    /// <summary>The request is not well-formed XML (the original answers with expat's error).</summary>
    public static string NotWellFormed(string message)
        => "<class 'xml.parsers.expat.ExpatError'>:" + (message.Contains("DTD", StringComparison.Ordinal) ? "a DTD is not accepted" : message);

    /// <summary>The request is XML but not an XML-RPC call.</summary>
    public static string NotACall(string message) => "<class 'xmlrpclib.ResponseError'>:" + message;

    private static string PythonType(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        byte[] or XmlRpcDateTime => "instance",
        System.Collections.IDictionary => "dict",
        _ => "list",
    };
}
