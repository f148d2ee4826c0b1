using System.CommandLine;
using System.Security.Cryptography;
using Leasehold.Fuzz.Harness;
using Leasehold.Fuzz.Targets;

// dotnet run -c Release --project fuzz/Leasehold.Fuzz -- --format all --inputs 1000000 [--seed N] (docs/fuzzing.md)
var names = Formats.All().Select(t => t.Name).Prepend("all").ToArray();
var format = new Option<string>("--format") { Description = "What to fuzz: " + string.Join(", ", names) + " (all: every in-process target)", DefaultValueFactory = _ => "all" };
format.AcceptOnlyFromAmong(names);
var inputs = new Option<long>("--inputs") { Description = "Inputs per format", DefaultValueFactory = _ => 10_000 };
var seed = new Option<ulong?>("--seed") { Description = "The run's seed (default: a random one, printed)" };
var threads = new Option<int>("--threads") { Description = "Worker threads per format", DefaultValueFactory = _ => Environment.ProcessorCount };
var budget = new Option<double?>("--budget") { Description = $"Seconds one input may take before it counts as a hang (default: {FuzzSettings.DefaultBudget.TotalSeconds}, end-to-end {EndToEndTarget.Create().DefaultBudget.TotalSeconds})" };
var replay = new Option<string?>("--replay") { Description = "Check the one input of this input seed (from a report) and shrink it with CsCheck" };
var root = new RootCommand("Fuzzes every input format the Leasehold server parses with CsCheck generators.") { format, inputs, seed, threads, budget, replay };
root.SetAction(parsed =>
{
    var targets = Formats.Select(parsed.GetValue(format)!);
    if (parsed.GetValue(replay) is { } inputSeed)
    {
        foreach (var target in targets)
        {
            try
            {
                target.Replay(inputSeed, 100_000);
                Console.WriteLine($"{target.Name}: the input of seed {inputSeed} passes");
            }
            catch (Exception ex)
            {
                Console.WriteLine($"{target.Name}: {ex.Message}");
                return 1;
            }
        }
        return 0;
    }
    var settings = new FuzzSettings(
        parsed.GetValue(inputs),
        parsed.GetValue(seed) ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
        parsed.GetValue(threads),
        FuzzSettings.DefaultBudget);
    var givenBudget = parsed.GetValue(budget) is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
    Console.WriteLine($"seed {settings.Seed}, {settings.Inputs} inputs per format, {settings.Threads} threads");
    var failed = false;
    foreach (var target in targets)
    {
        var report = target.Run(settings with { InputBudget = givenBudget ?? target.DefaultBudget });
        Console.WriteLine(report.Summary());
        foreach (var failure in report.Examples.Append(report.Hang).OfType<FuzzFailure>())
        {
            Console.WriteLine($"  input seed {failure.InputSeed} (--format {target.Name} --replay {failure.InputSeed}): {failure.Problem}");
            Console.WriteLine($"    input: {failure.Input}");
        }
        failed |= !report.Passed;
        if (report.Hang is not null)
        {
            // A thread is stuck in the code under test and cannot be stopped: end the process rather than wait for it.
            Console.Out.Flush();
            Environment.Exit(2);
        }
    }
    return failed ? 1 : 0;
});
return root.Parse(args).Invoke();
