namespace Leasehold.Core;

/// <summary>How a lease holds its paths. The numbers are persisted: never renumber.</summary>
public enum LockMode : byte
{
    /// <summary>Excludes every other holder of the path (or, with a limit, all but limit - 1 others).</summary>
    Exclusive = 0,

    /// <summary>Coexists with other shared holders.</summary>
    Shared = 1,
}
