using System.Security.Cryptography;
using Leasehold.Fuzz.Harness;
using Leasehold.Fuzz.Targets;
using Xunit.Abstractions;

namespace Leasehold.Fuzz.Tests;

/// <summary>
/// A short run of every fuzzing target (docs/fuzzing.md): a few thousand inputs with a fixed seed, and as many with a
/// random seed that the output prints, so that each CI run also looks somewhere new.
/// </summary>
public sealed class ShortRunTests(ITestOutputHelper output)
{
    private const ulong FixedSeed = 20261205;

    private static readonly ulong RandomSeed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

    public static TheoryData<string, int> Targets => new()
    {
        { HttpJsonTarget.Name, 3_000 },
        { XmlRpcTarget.Name, 3_000 },
        { IdServerTarget.Name, 3_000 },
        { LogTarget.Name, 3_000 },
        { SnapshotTarget.Name, 3_000 },
        { EndToEndTarget.Name, 300 },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public void FixedSeedFindsNothing(string format, int inputs) => RunAndRequirePass(format, inputs, FixedSeed);

    [Theory]
    [MemberData(nameof(Targets))]
    public void RandomSeedFindsNothing(string format, int inputs) => RunAndRequirePass(format, inputs, RandomSeed);

    private void RunAndRequirePass(string format, int inputs, ulong seed)
    {
        var target = Formats.Select(format).Single();
        var report = target.Run(new FuzzSettings(inputs, seed, Environment.ProcessorCount, target.DefaultBudget));
        output.WriteLine(report.Summary());
        var problems = report.Examples.Append(report.Hang).OfType<FuzzFailure>()
            .Select(f => $"input seed {f.InputSeed} (--format {format} --replay {f.InputSeed}): {f.Problem}\n  input: {f.Input}");
        Assert.True(report.Passed, report.Summary() + "\n" + string.Join("\n", problems));
        Assert.Equal(inputs, report.Inputs);
    }
}
