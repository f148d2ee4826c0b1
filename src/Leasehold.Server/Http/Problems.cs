using Leasehold.Core;
using Leasehold.Protocol;

namespace Leasehold.Server.Http;

/// <summary>
/// The one table from outcomes to HTTP: each engine <see cref="ErrorCode"/> has one status and one stable
/// <c>code</c>; protocol-level failures (bad JSON, too large, unknown route) have theirs. Pinned by a test.
/// </summary>
internal static class Problems
{
    private static readonly Dictionary<string, (int Status, string Title)> Catalogue = new()
    {
        [ErrorCodes.Locked] = (StatusCodes.Status409Conflict, "Not granted: the resource is locked"),
        [ErrorCodes.NotFound] = (StatusCodes.Status404NotFound, "Not found"),
        [ErrorCodes.InvalidToken] = (StatusCodes.Status403Forbidden, "The token is missing or does not match"),
        [ErrorCodes.InvalidPath] = (StatusCodes.Status400BadRequest, "The path is not valid"),
        [ErrorCodes.InvalidArgument] = (StatusCodes.Status400BadRequest, "An argument is not valid"),
        [ErrorCodes.InvalidJson] = (StatusCodes.Status400BadRequest, "The body is not the JSON this route takes"),
        [ErrorCodes.LimitMismatch] = (StatusCodes.Status409Conflict, "The limit disagrees with the path's holders"),
        [ErrorCodes.PayloadTooLarge] = (StatusCodes.Status413PayloadTooLarge, "The request body is too large"),
        [ErrorCodes.MethodNotAllowed] = (StatusCodes.Status405MethodNotAllowed, "The route does not take this method"),
        [ErrorCodes.ShuttingDown] = (StatusCodes.Status503ServiceUnavailable, "The server is shutting down"),
        [ErrorCodes.SessionEnded] = (StatusCodes.Status409Conflict, "The session ended"),
        [ErrorCodes.Internal] = (StatusCodes.Status500InternalServerError, "Internal error"),
        [ErrorCodes.InvalidQuery] = (StatusCodes.Status400BadRequest, "The requirement query is not valid"),
        [ErrorCodes.NoMatch] = (StatusCodes.Status422UnprocessableEntity, "No declared resource can satisfy the request"),
        [ErrorCodes.ResourceBusy] = (StatusCodes.Status409Conflict, "The resource is held"),
        [ErrorCodes.Draining] = (StatusCodes.Status409Conflict, "Not granted: the path is drained for maintenance"),
        [ErrorCodes.BadRequest] = (StatusCodes.Status400BadRequest, "The request cannot be read"),
        [ErrorCodes.Unauthenticated] = (StatusCodes.Status401Unauthorized, "Credentials are needed"),
        [ErrorCodes.InvalidCredentials] = (StatusCodes.Status401Unauthorized, "The credentials are not valid"),
        [ErrorCodes.Forbidden] = (StatusCodes.Status403Forbidden, "The principal lacks the right"),
        [ErrorCodes.QuotaExceeded] = (StatusCodes.Status429TooManyRequests, "A quota is used up"),
        [ErrorCodes.RateLimited] = (StatusCodes.Status429TooManyRequests, "Too many requests"),
        [ErrorCodes.NoLeader] = (StatusCodes.Status503ServiceUnavailable, "No cluster leader can take the request now"),
        [ErrorCodes.TooManyStreams] = (StatusCodes.Status503ServiceUnavailable, "Too many event streams are open"),
    };

    public static IReadOnlyDictionary<string, (int Status, string Title)> All => Catalogue;

    public static string Code(ErrorCode error) => error switch
    {
        ErrorCode.Locked => ErrorCodes.Locked,
        ErrorCode.NotFound => ErrorCodes.NotFound,
        ErrorCode.InvalidToken => ErrorCodes.InvalidToken,
        ErrorCode.InvalidPath => ErrorCodes.InvalidPath,
        ErrorCode.InvalidArgument => ErrorCodes.InvalidArgument,
        ErrorCode.LimitMismatch => ErrorCodes.LimitMismatch,
        ErrorCode.ShuttingDown => ErrorCodes.ShuttingDown,
        ErrorCode.SessionEnded => ErrorCodes.SessionEnded,
        ErrorCode.InvalidQuery => ErrorCodes.InvalidQuery,
        ErrorCode.NoMatch => ErrorCodes.NoMatch,
        ErrorCode.ResourceBusy => ErrorCodes.ResourceBusy,
        ErrorCode.Draining => ErrorCodes.Draining,
        _ => ErrorCodes.Internal,
    };

    public static ProblemDto Create(string code, string? detail, LeaseDto[]? holders = null)
    {
        var (status, title) = Catalogue[code];
        return new ProblemDto
        {
            Type = "urn:leasehold:problem:" + code,
            Title = title,
            Status = status,
            Detail = detail,
            Code = code,
            Holders = holders,
        };
    }

    /// <param name="code">the catalogue's code</param>
    /// <param name="detail">for people</param>
    /// <param name="holders">for <c>locked</c></param>
    /// <param name="retryAfterSeconds">when to try again: the <c>Retry-After</c> header and the problem's <c>retryAfter</c></param>
    public static IResult Result(string code, string? detail, LeaseDto[]? holders = null, int? retryAfterSeconds = null)
    {
        var problem = Create(code, detail, holders) with { RetryAfter = retryAfterSeconds };
        return new ProblemResult(problem, Results.Json(problem, ProtocolJsonContext.Default.ProblemDto, ProblemDto.ContentType, problem.Status));
    }

    private static void SetRetryAfter(HttpContext context, ProblemDto problem)
    {
        if (problem.RetryAfter is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    // The problem code a request was answered with, for the requests metric (Metrics/RequestMetrics.cs). Set only on
    // a problem answer, so a request that succeeds never creates its HttpContext.Items.
    private static readonly object CodeKey = new();

    /// <summary>The problem code the request was answered with, or null. Read it only for an error status (it creates Items).</summary>
    public static string? AnsweredCode(HttpContext context) => context.Items.TryGetValue(CodeKey, out var code) ? code as string : null;

    private static void Note(HttpContext context, string code) => context.Items[CodeKey] = code;

    /// <summary>
    /// A problem answer that notes its code on the request as it is written. It says its status and body as the
    /// framework's own results do, so what inspects a result (the fuzz targets) sees the problem, not a wrapper.
    /// </summary>
    private sealed class ProblemResult(ProblemDto problem, IResult inner) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<ProblemDto>
    {
        public int? StatusCode => problem.Status;

        public ProblemDto Value => problem;

        object? IValueHttpResult.Value => problem;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            Note(httpContext, problem.Code);
            SetRetryAfter(httpContext, problem);
            return inner.ExecuteAsync(httpContext);
        }
    }

    public static IResult Result(ErrorCode error, string? detail) => Result(Code(error), detail);

    /// <summary>HTTP's answer to a refusal of a check shared with other front-ends.</summary>
    public static IResult Result(Refusal refusal) => Result(refusal.Code, refusal.Detail);

    /// <summary>A request Kestrel could not read (bad framing, a body over the limit): the client's fault, never a 500.</summary>
    public static IResult Result(BadHttpRequestException error) => Result(Code(error), error.Message);

    public static string Code(BadHttpRequestException error)
        => error.StatusCode == StatusCodes.Status413PayloadTooLarge ? ErrorCodes.PayloadTooLarge : ErrorCodes.BadRequest;

    /// <summary>
    /// Writes a problem straight to a response (used by middleware, outside endpoint results); with
    /// <paramref name="retryAfterSeconds"/>, a <c>Retry-After</c> header and the problem's <c>retryAfter</c> say when to try again.
    /// </summary>
    public static Task WriteAsync(HttpContext context, string code, string? detail, int? retryAfterSeconds = null)
    {
        var problem = Create(code, detail) with { RetryAfter = retryAfterSeconds };
        SetRetryAfter(context, problem);
        Note(context, code);
        context.Response.StatusCode = problem.Status;
        context.Response.ContentType = ProblemDto.ContentType;
        return System.Text.Json.JsonSerializer.SerializeAsync(context.Response.Body, problem, ProtocolJsonContext.Default.ProblemDto);
    }
}

/// <summary>
/// Why a shared check refused a request: a code of the catalogue and a detail for people. HTTP answers it as a
/// problem document (<see cref="Problems.Result(Refusal)"/>), the native protocol as an ERROR frame.
/// </summary>
internal readonly record struct Refusal(string Code, string Detail);
