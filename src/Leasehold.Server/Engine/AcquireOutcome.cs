using Leasehold.Core;
using Leasehold.Protocol;

namespace Leasehold.Server.Engine;

/// <summary>The final answer to an acquire, already in wire form (mapped on the writer, where reading the engine is safe).</summary>
/// <param name="Error">None, or why nothing was granted.</param>
/// <param name="Lease">The granted lease, with its token.</param>
/// <param name="Detail">The refusal's detail.</param>
/// <param name="Blockers">The leases in the way of a refused request.</param>
/// <param name="Reused">The lease was not granted by this request but returned to it (a pool request with reuse):
/// its holder had it before, so an answer that is not delivered must not end it.</param>
public sealed record AcquireOutcome(ErrorCode Error, LeaseDto? Lease, string? Detail = null, LeaseDto[]? Blockers = null, bool Reused = false);
