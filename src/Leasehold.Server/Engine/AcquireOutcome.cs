using Leasehold.Core;
using Leasehold.Protocol;

namespace Leasehold.Server.Engine;

/// <summary>The final answer to an acquire, already in wire form (mapped on the writer, where reading the engine is safe).</summary>
public sealed record AcquireOutcome(ErrorCode Error, LeaseDto? Lease, string? Detail = null, LeaseDto[]? Blockers = null);
