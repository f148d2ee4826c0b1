namespace Leasehold.Server.Http;

/// <summary>
/// Endpoint metadata: the route answers with a stream that does not end on its own (<c>GET /v1/events</c>). The
/// native protocol's CALL, which answers with one frame once the request completes, refuses such routes
/// (<see cref="Native.NativeCall"/>): WATCH is the native way to follow events.
/// </summary>
internal sealed class StreamingRoute
{
    public static readonly StreamingRoute Instance = new();

    private StreamingRoute()
    {
    }
}
