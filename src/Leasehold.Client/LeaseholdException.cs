using Leasehold.Protocol;

namespace Leasehold.Client;

/// <summary>
/// The server refused a request. <see cref="Code"/> is the stable code of its problem response
/// (docs/http-api.md lists them); subclasses exist for the ones callers handle.
/// </summary>
public class LeaseholdException : Exception
{
    public LeaseholdException()
    {
        Code = ErrorCodes.Internal;
    }

    public LeaseholdException(string message)
        : base(message)
    {
        Code = ErrorCodes.Internal;
    }

    public LeaseholdException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = ErrorCodes.Internal;
    }

    public LeaseholdException(string code, int status, string message)
        : base(message)
    {
        Code = code;
        Status = status;
    }

    /// <summary>For subclasses that carry the transport's exception as the cause.</summary>
    protected LeaseholdException(string code, int status, string message, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
        Status = status;
    }

    /// <summary>The problem's <c>code</c>, such as <c>not-found</c> or <c>invalid-query</c>.</summary>
    public string Code { get; }

    /// <summary>The HTTP status, or 0 when no response arrived.</summary>
    public int Status { get; }

    /// <summary>Builds the most specific exception for a problem response.</summary>
    internal static LeaseholdException From(ProblemDto problem)
    {
        var message = $"{problem.Title}: {problem.Detail} ({problem.Code})";
        return problem.Code switch
        {
            ErrorCodes.NotFound => new LeaseholdNotFoundException(problem.Status, message),
            ErrorCodes.NoMatch => new LeaseholdNoMatchException(problem.Status, message),
            ErrorCodes.InvalidToken => new LeaseholdInvalidTokenException(problem.Status, message),
            _ => new LeaseholdException(problem.Code, problem.Status, message),
        };
    }
}

/// <summary>The lease or session does not exist (never did, released, or expired).</summary>
public sealed class LeaseholdNotFoundException(int status, string message) : LeaseholdException(ErrorCodes.NotFound, status, message);

/// <summary>No declared resource could ever satisfy the requirement: waiting would not help.</summary>
public sealed class LeaseholdNoMatchException(int status, string message) : LeaseholdException(ErrorCodes.NoMatch, status, message);

/// <summary>The token does not match the lease or session.</summary>
public sealed class LeaseholdInvalidTokenException(int status, string message) : LeaseholdException(ErrorCodes.InvalidToken, status, message);

/// <summary>Not granted within the wait: the resources stayed held. Thrown by <see cref="LeaseholdClient.AcquireAsync"/>.</summary>
public sealed class LeaseholdTimeoutException(string message) : TimeoutException(message);

/// <summary>
/// No answer came from the server: it could not be reached (refused, unresolved, unroutable), the
/// connection broke, or the answer could not be read. <see cref="Server"/> is the address tried; the
/// transport's exception is the <see cref="Exception.InnerException"/>. <see cref="LeaseholdException.Code"/>
/// is <c>unreachable</c> and <see cref="LeaseholdException.Status"/> is 0: no server answered.
/// Requests that are safe to repeat were retried first.
/// </summary>
public sealed class LeaseholdUnavailableException : LeaseholdException
{
    /// <summary>The code of this exception; not a server problem code, since no server answered.</summary>
    public const string UnreachableCode = "unreachable";

    public LeaseholdUnavailableException(Uri server, Exception innerException)
        : base(UnreachableCode, 0, $"cannot reach the Leasehold server at {server}: {(innerException is null ? "" : ClientTls.Describe(innerException))}", innerException)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
    }

    /// <summary>A client of several servers that reached none of them: <paramref name="server"/> is the last one tried.</summary>
    internal LeaseholdUnavailableException(Uri server, IReadOnlyList<Uri> servers, Exception innerException)
        : base(UnreachableCode, 0, $"cannot reach any of the Leasehold servers {string.Join(", ", servers)} (last tried {server}): {ClientTls.Describe(innerException)}", innerException)
    {
        Server = server;
    }

    /// <summary>The server's base address, as the client was configured with it (of several, the last one tried).</summary>
    public Uri Server { get; }
}
