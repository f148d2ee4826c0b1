using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Leasehold.Bench;

// `--memory [count]` measures the heap cost of held leases; `--memory-worst [count]` that of the most
// expensive leases a request may ask for; `--recovery [records]` the time to reopen a
// data directory (log replay, then from a snapshot); `--snapshot-pause [leases] [seconds] [fsync|interval]
// [snapshotEvery] [clients]` how long requests wait while a large state is snapshotted; anything else goes to BenchmarkDotNet,
// e.g. `--filter '*'`, `--filter '*Conflict*' --job short`, `--list flat`.
if (args.Length > 0 && args[0] == "--memory")
{
    var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
    return MemoryMeasurement.Run(count);
}
if (args.Length > 0 && args[0] == "--memory-worst")
{
    return WorstCaseMemory.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000);
}
if (args.Length > 0 && args[0] == "--recovery")
{
    var records = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
    return RecoveryMeasurement.Run(records);
}
if (args.Length > 0 && args[0] == "--snapshot-pause")
{
    return SnapshotPauseMeasurement.Run(args[1..]);
}

// Min and median next to the mean: on a shared machine the mean carries other processes' noise.
var config = DefaultConfig.Instance.AddColumn(StatisticColumn.Min, StatisticColumn.Median);
BenchmarkSwitcher.FromAssembly(typeof(UncontendedBenchmarks).Assembly).Run(args, config);
return 0;
