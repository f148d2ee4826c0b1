namespace Leasehold.Fuzz.Harness;

/// <summary>How one target is run.</summary>
/// <param name="Inputs">How many inputs to generate and check.</param>
/// <param name="Seed">The run's seed: input <c>i</c> comes from a seed derived from it and <c>i</c> alone, so a run
/// generates the same inputs whatever the number of threads.</param>
/// <param name="Threads">Worker threads; each has its own checker (its own engine, files, connections).</param>
/// <param name="InputBudget">The longest one input may take before it is reported as a hang.</param>
public sealed record FuzzSettings(long Inputs, ulong Seed, int Threads, TimeSpan InputBudget)
{
    /// <summary>The default per-input budget: far beyond any legitimate input, short enough to catch a loop.</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromSeconds(2);

    /// <summary>At most this many failing inputs are kept for the report (all are counted).</summary>
    public int MaxExamples { get; init; } = 5;
}
