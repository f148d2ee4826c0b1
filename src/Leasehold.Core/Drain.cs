namespace Leasehold.Core;

/// <summary>A drained prefix: who drained it and since when (Unix milliseconds). Immutable; part of the snapshot.</summary>
public sealed record Drain(ResourcePath Path, string Actor, long Since);

/// <summary>The outcome of <see cref="DrainPrefix"/>: the drain, and whether the command started it (false: it was already drained).</summary>
public readonly record struct DrainResult(ErrorCode Error, Drain? Drain, bool Started, string? Detail = null);
