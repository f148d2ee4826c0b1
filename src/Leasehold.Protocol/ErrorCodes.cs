namespace Leasehold.Protocol;

/// <summary>
/// The stable <c>code</c> values of problem responses. Clients switch on these; never rename one.
/// The catalogue with HTTP statuses is in docs/http-api.md.
/// </summary>
public static class ErrorCodes
{
    public const string Locked = "locked";
    public const string NotFound = "not-found";
    public const string InvalidToken = "invalid-token";
    public const string InvalidPath = "invalid-path";
    public const string InvalidArgument = "invalid-argument";
    public const string InvalidJson = "invalid-json";
    public const string LimitMismatch = "limit-mismatch";
    public const string PayloadTooLarge = "payload-too-large";
    public const string MethodNotAllowed = "method-not-allowed";
    public const string ShuttingDown = "shutting-down";
    public const string SessionEnded = "session-ended";
    public const string Internal = "internal";
    public const string InvalidQuery = "invalid-query";
    public const string NoMatch = "no-match";
    public const string ResourceBusy = "resource-busy";
    public const string Draining = "draining";
    public const string BadRequest = "bad-request";
    public const string Unauthenticated = "unauthenticated";
    public const string InvalidCredentials = "invalid-credentials";
    public const string Forbidden = "forbidden";
    public const string QuotaExceeded = "quota-exceeded";
    public const string RateLimited = "rate-limited";
    public const string NoLeader = "no-leader";
    public const string TooManyStreams = "too-many-streams";
}

/// <summary>Header names of the HTTP API.</summary>
public static class Headers
{
    /// <summary>Carries the secret token of a lease or session on renew, release, keep-alive and close.</summary>
    public const string Token = "Leasehold-Token";

    /// <summary>On an answer a cluster follower forwarded: the leader's URL, so a client that knows it may go there directly.</summary>
    public const string Leader = "Leasehold-Leader";

    /// <summary>On the event stream's answer: the revision it starts after (every event that follows has a larger one).</summary>
    public const string Revision = "Leasehold-Revision";

    /// <summary>
    /// On the event stream's answer: the seconds of silence after which the server writes a keep-alive comment, so a
    /// client that hears nothing for much longer knows the stream is dead (a connection lost without a reset).
    /// </summary>
    public const string KeepAlive = "Leasehold-Keep-Alive";
}
