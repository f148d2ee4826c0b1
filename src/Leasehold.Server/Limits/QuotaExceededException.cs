namespace Leasehold.Server.Limits;

/// <summary>
/// A request refused before it changed anything because a quota is used up (<see cref="Protocol.ErrorCodes.QuotaExceeded"/>)
/// or it is larger than one request may be (<see cref="Protocol.ErrorCodes.InvalidArgument"/>). Thrown on the
/// writer before the command is applied or logged; answered with that problem code (or the front-end's error).
/// An exception because the refusal must cross every front-end's path unchanged, and it is rare.
/// </summary>
public sealed class QuotaExceededException(string message, string code = Protocol.ErrorCodes.QuotaExceeded) : Exception(message)
{
    public string Code { get; } = code;
}
