namespace Leasehold.Server.Engine;

/// <summary>
/// This cluster node does not lead (or stopped leading while the request was in flight): nothing was decided
/// here, or what was decided may not be kept. Answered 503 <c>no-leader</c>; the client retries, on this node or
/// another, with the same idempotency key for an acquire.
/// </summary>
public sealed class NotLeaderException : Exception
{
    public NotLeaderException()
        : base("this node is not the cluster's leader, and no leader is known to forward to; retry shortly")
    {
    }

    public NotLeaderException(string message)
        : base(message)
    {
    }

    public NotLeaderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
