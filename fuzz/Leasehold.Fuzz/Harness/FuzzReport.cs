using System.Globalization;

namespace Leasehold.Fuzz.Harness;

/// <summary>One failing input: the CsCheck seed that regenerates it, how it prints, and what went wrong.</summary>
public sealed record FuzzFailure(string InputSeed, string Input, string Problem);

/// <summary>What a run of one target found.</summary>
public sealed record FuzzReport(string Format, long Inputs, long Failures, TimeSpan Elapsed, ulong Seed, IReadOnlyList<FuzzFailure> Examples)
{
    /// <summary>The input that overran its budget (the run stopped there), or null.</summary>
    public FuzzFailure? Hang { get; init; }

    public bool Passed => Failures == 0 && Hang is null;

    public double InputsPerSecond => Elapsed.TotalSeconds > 0 ? Inputs / Elapsed.TotalSeconds : 0;

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{Format}: inputs {Inputs}, failures {Failures}, hangs {(Hang is null ? 0 : 1)}, elapsed {Elapsed.TotalSeconds:F1} s, {InputsPerSecond:F0} inputs/s, seed {Seed}");
}
