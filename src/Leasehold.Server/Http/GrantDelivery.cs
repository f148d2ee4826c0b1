using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Server.Http;

/// <summary>
/// Writes a granted lease to its client and says whether it got there. A grant whose answer cannot be
/// serialized or written, or whose client the server already knows to be gone, must not leave a lease
/// behind that nobody holds the token of; the caller releases it. An answer written in full counts as
/// delivered, even if the client hangs up right after reading it.
/// </summary>
internal static class GrantDelivery
{
    public static Task<bool> TryDeliverAsync(HttpContext context, LeaseDto lease)
    {
        byte[] body;
        try
        {
            // Serialized first, so a value that cannot be written fails before any byte is sent.
            body = JsonSerializer.SerializeToUtf8Bytes(lease, ProtocolJsonContext.Default.LeaseDto);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return Task.FromResult(false);
        }
        return TryDeliverAsync(context, body, StatusCodes.Status201Created, "application/json; charset=utf-8");
    }

    /// <summary>Writes a grant's answer in any front-end's form; false when it cannot have reached the client.</summary>
    public static async Task<bool> TryDeliverAsync(HttpContext context, byte[] body, int status, string contentType)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return false;
        }
        var response = context.Response;
        try
        {
            response.StatusCode = status;
            response.ContentType = contentType;
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
            await response.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            return false;
        }
        // A native CALL's answer over its frame is dropped (frame-too-large): its caller never sees the token.
        return response.Body is not Native.CappedBody { Overflowed: true };
    }
}
