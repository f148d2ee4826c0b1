namespace Leasehold.Server.Limits;

/// <summary>
/// A request refused before it changed anything because a lease, session or waiter quota is used up. Thrown on
/// the writer before the command is applied or logged; answered 429 <c>quota-exceeded</c> (or the front-end's
/// error). An exception because the refusal must cross every front-end's path unchanged, and it is rare.
/// </summary>
public sealed class QuotaExceededException(string message) : Exception(message);
