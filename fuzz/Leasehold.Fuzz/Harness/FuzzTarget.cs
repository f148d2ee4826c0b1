using CsCheck;

namespace Leasehold.Fuzz.Harness;

/// <summary>One input format: how its inputs are generated and how each is checked.</summary>
public abstract class FuzzTarget
{
    /// <summary>The name given to <c>--format</c>.</summary>
    public abstract string Name { get; }

    /// <summary>What the inputs are and what is checked, for the summary line and docs/fuzzing.md.</summary>
    public abstract string Description { get; }

    /// <summary>How long one input may take by default before it counts as a hang.</summary>
    public TimeSpan DefaultBudget { get; init; } = FuzzSettings.DefaultBudget;

    public abstract FuzzReport Run(FuzzSettings settings);

    /// <summary>
    /// Regenerates the input of <paramref name="inputSeed"/> (a seed a report printed) and checks it, then lets
    /// CsCheck shrink it to a smaller failing input; throws CsCheck's report when it fails.
    /// </summary>
    public abstract void Replay(string inputSeed, long shrinkIterations);
}

/// <summary>A target over inputs of type <typeparamref name="T"/>.</summary>
public sealed class FuzzTarget<T>(string name, string description, Gen<T> inputs, Func<IInputChecker<T>> newChecker, Func<T, string> print) : FuzzTarget
{
    public override string Name => name;

    public override string Description => description;

    public Gen<T> Inputs => inputs;

    public override FuzzReport Run(FuzzSettings settings) => FuzzRunner.Run(name, inputs, newChecker, print, settings);

    public override void Replay(string inputSeed, long shrinkIterations)
    {
        using var checker = newChecker();
        inputs.Sample(checker.Check, seed: inputSeed, iter: shrinkIterations, threads: 1, print: print);
    }
}
