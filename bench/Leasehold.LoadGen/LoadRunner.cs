using System.Diagnostics;
using System.Globalization;

namespace Leasehold.LoadGen;

/// <summary>
/// Runs the clients for warmup + duration and measures the cycles that complete inside the measured
/// window. Each client keeps one request in flight at a time (closed loop).
/// </summary>
internal sealed class LoadRunner(LoadOptions options, ILockTarget target)
{
    /// <summary>
    /// How far apart the grants per client of a contended run may be on a target that queues fairly: 3 plus the square
    /// root of the mean (see where it is checked).
    /// </summary>
    private static long MaxFairSpread(long[] grants) => 3 + (long)Math.Sqrt(grants.Average());

    private const string ContendedPath = "/load/contended";

    private readonly ClientState[] _clients = [.. Enumerable.Range(0, options.Clients).Select(_ => new ClientState())];

    // Contended-run checks, shared by all clients.
    private int _holders;
    private long _lastFence;
    private long _grantSequence;
    private long _exclusionViolations;
    private long _fenceViolations;

    private long _measureFrom;
    private long _stopAt;

    /// <param name="serverCpu">CPU time of the target's processes so far, when it was spawned</param>
    /// <param name="serverProcesses">how many processes that counts</param>
    /// <param name="cancel">stops the run early</param>
    public async Task<int> RunAsync(Func<TimeSpan>? serverCpu, int serverProcesses, CancellationToken cancel)
    {
        var frequency = Stopwatch.Frequency;
        var start = Stopwatch.GetTimestamp();
        _measureFrom = start + (long)(options.WarmupSeconds * frequency);
        _stopAt = _measureFrom + (long)(options.DurationSeconds * frequency);

        // A waiting request may outlive the window by its wait; nothing runs longer than that plus a margin.
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        hardStop.CancelAfter(TimeSpan.FromSeconds(options.WarmupSeconds + options.DurationSeconds + options.WaitSeconds + 30));

        var sampling = SampleAsync(serverCpu, hardStop.Token);
        var tasks = new Task[options.Clients];
        for (var c = 0; c < options.Clients; c++)
        {
            var index = c;
            tasks[c] = Task.Run(() => options.Scenario == Scenario.Contended
                ? RunContendedAsync(index, hardStop.Token)
                : RunUncontendedAsync(index, hardStop.Token), hardStop.Token);
        }
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("stopped before every client finished (cancelled or hard time limit)");
        }
        return Report(await sampling, serverProcesses);
    }

    private async Task RunUncontendedAsync(int index, CancellationToken cancel)
    {
        var state = _clients[index];
        var requests = new object[16];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = target.Prepare(index, $"/load/c{index}/{i}", null);
        }
        for (var i = 0; Stopwatch.GetTimestamp() < _stopAt && !cancel.IsCancellationRequested; i++)
        {
            await CycleAsync(index, state, requests[i % requests.Length], onGranted: null, cancel);
        }
    }

    private async Task RunContendedAsync(int index, CancellationToken cancel)
    {
        var state = _clients[index];
        var request = target.Prepare(index, ContendedPath, options.WaitSeconds);
        while (Stopwatch.GetTimestamp() < _stopAt && !cancel.IsCancellationRequested)
        {
            var sentAt = Interlocked.Read(ref _grantSequence);
            await CycleAsync(index, state, request, held => OnContendedGrant(state, held, sentAt), cancel);
        }
    }

    /// <summary>
    /// Checks made while this client believes it holds the contended path: nobody else holds it, its fence
    /// is larger than the previous grant's, and FIFO bounds how many grants came between its request and
    /// its own grant.
    /// </summary>
    private void OnContendedGrant(ClientState state, Held lease, long sequenceWhenSent)
    {
        if (Interlocked.Increment(ref _holders) != 1)
        {
            Interlocked.Increment(ref _exclusionViolations);
        }
        var previous = Interlocked.Exchange(ref _lastFence, lease.Fence);
        if (target.HasFences && lease.Fence <= previous)
        {
            Interlocked.Increment(ref _fenceViolations);
        }
        var sequence = Interlocked.Increment(ref _grantSequence);
        var grantsAhead = sequence - sequenceWhenSent - 1;
        state.MaxGrantsAhead = Math.Max(state.MaxGrantsAhead, grantsAhead);
        // Only in the measured window: in the warmup, clients connect one after another and start their turns late.
        var now = Stopwatch.GetTimestamp();
        if (now >= _measureFrom && now <= _stopAt)
        {
            state.Grants++;
        }
    }

    private async Task CycleAsync(int index, ClientState state, object request, Action<Held>? onGranted, CancellationToken cancel)
    {
        var t0 = Stopwatch.GetTimestamp();
        var (held, error) = await target.AcquireAsync(index, request, cancel);
        var t1 = Stopwatch.GetTimestamp();
        if (held is null)
        {
            await FailAsync(state, error ?? "acquire: no lock", cancel);
            return;
        }
        if (onGranted is not null)
        {
            onGranted(held);
            if (options.HoldMs > 0)
            {
                await Task.Delay(options.HoldMs, cancel);
            }
            // Let go locally before the server can grant the next client.
            Interlocked.Decrement(ref _holders);
        }
        else if (options.HoldMs > 0)
        {
            await Task.Delay(options.HoldMs, cancel);
        }
        var t2 = Stopwatch.GetTimestamp();
        error = await target.ReleaseAsync(index, held, cancel);
        var t3 = Stopwatch.GetTimestamp();
        if (error is not null)
        {
            await FailAsync(state, error, cancel);
            return;
        }
        if (t3 >= _measureFrom && t3 <= _stopAt)
        {
            state.Cycles.Add(t3 - t0);
            state.Acquires.Add(t1 - t0);
            state.Releases.Add(t3 - t2);
        }
    }

    private static TimeSpan Until(long timestamp)
    {
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private async Task FailAsync(ClientState state, string what, CancellationToken cancel)
    {
        var now = Stopwatch.GetTimestamp();
        if (now >= _measureFrom && now <= _stopAt)
        {
            state.Errors++;
        }
        state.FirstError ??= what;
        await Task.Delay(10, cancel); // do not spin on a broken server
    }

    private async Task<Samples> SampleAsync(Func<TimeSpan>? serverCpu, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(Until(_measureFrom), cancel);
            var client0 = Process.GetCurrentProcess().TotalProcessorTime;
            var server0 = serverCpu?.Invoke();
            var machine0 = MachineCpu.Read();
            var stats0 = await target.StatsAsync(cancel);
            await Task.Delay(Until(_stopAt), cancel);
            var client1 = Process.GetCurrentProcess().TotalProcessorTime;
            var server1 = serverCpu?.Invoke();
            var machine1 = MachineCpu.Read();
            var stats1 = await target.StatsAsync(cancel);
            TimeSpan? machineBusy = machine0 is { } m0 && machine1 is { } m1
                ? TimeSpan.FromSeconds((m1.Busy - m0.Busy) / MachineCpu.TicksPerSecond)
                : null;
            return new Samples(client1 - client0, server1 - server0, machineBusy, stats0, stats1);
        }
        catch (OperationCanceledException)
        {
            return new Samples(TimeSpan.Zero, null, null, null, null);
        }
    }

    private sealed record Samples(TimeSpan ClientCpu, TimeSpan? ServerCpu, TimeSpan? MachineBusy, StatsReply? StatsBefore, StatsReply? StatsAfter);

    private int Report(Samples samples, int serverProcesses)
    {
        var (clientCpu, serverCpu) = (samples.ClientCpu, samples.ServerCpu);
        var inv = CultureInfo.InvariantCulture;
        var cycles = new LatencyStats(_clients.Select(c => c.Cycles));
        var acquires = new LatencyStats(_clients.Select(c => c.Acquires));
        var releases = new LatencyStats(_clients.Select(c => c.Releases));
        var errors = _clients.Sum(c => c.Errors);
        var seconds = options.DurationSeconds;

        Console.WriteLine(string.Create(inv,
            $"{target.Name}: scenario {options.Scenario.ToString().ToLowerInvariant()}, {options.Clients} clients, warmup {options.WarmupSeconds} s, measured {seconds} s, {string.Join(' ', options.Urls)}"));
        Console.WriteLine(string.Create(inv, $"  cycles   {cycles.Count,9:N0}  ({cycles.Count / seconds:N0} acquire+release/s)"));
        Console.WriteLine(string.Create(inv, $"  errors   {errors,9:N0}{(_clients.FirstOrDefault(c => c.FirstError is not null)?.FirstError is { } first ? $"  (first: {first})" : "")}"));
        Console.WriteLine(LatencyStats.Header);
        Console.WriteLine(cycles.Row("cycle"));
        Console.WriteLine(acquires.Row("acquire"));
        Console.WriteLine(releases.Row("release"));
        var cores = Environment.ProcessorCount;
        Console.WriteLine(string.Create(inv,
            $"  cpu      loadgen {clientCpu.TotalSeconds / seconds * 100,5:F0}% of one core{(serverCpu is { } s ? string.Create(inv, $", {(serverProcesses > 1 ? "servers (all nodes)" : "server")} {s.TotalSeconds / seconds * 100,5:F0}%") : ", server not measured (not spawned)")}, {cores} cores"));

        if (samples.MachineBusy is { } busy)
        {
            var others = busy - clientCpu - (serverCpu ?? TimeSpan.Zero);
            Console.WriteLine(string.Create(inv,
                $"  machine  {busy.TotalSeconds / seconds * 100,5:F0}% of one core busy in all{(serverCpu is null ? "" : string.Create(inv, $", other processes {Math.Max(0, others.TotalSeconds) / seconds * 100:F0}%"))} (/proc/stat)"));
        }
        if (samples is { StatsBefore: { } before, StatsAfter: { } after })
        {
            var logged = after.LoggedCommands - before.LoggedCommands;
            var syncs = after.Syncs - before.Syncs;
            Console.WriteLine(string.Create(inv,
                $"  log      {logged / seconds:N0} commands/s, {syncs / seconds:N0} fsyncs/s{(syncs > 0 ? string.Create(inv, $", {(double)logged / syncs:F1} commands per fsync") : "")} (server's /v1/stats, measured window)"));
            if (cycles.Count > 0 && after.AllocatedBytes > 0)
            {
                Console.WriteLine(string.Create(inv,
                    $"  alloc    {(after.AllocatedBytes - before.AllocatedBytes) / (2.0 * cycles.Count):N0} bytes allocated by the server per request (/v1/stats, measured window, 2 requests per cycle)"));
            }
        }

        var failed = errors > 0 || cycles.Count == 0;
        if (options.Scenario == Scenario.Contended)
        {
            var grants = _clients.Select(c => c.Grants).ToArray();
            var maxAhead = _clients.Max(c => c.MaxGrantsAhead);
            Console.WriteLine(string.Create(inv, $"  handoffs {Interlocked.Read(ref _grantSequence),9:N0} in the whole run, {cycles.Count / seconds:N0}/s measured"));
            Console.WriteLine(string.Create(inv, $"  mutual exclusion violations {_exclusionViolations} (two clients holding at once)"));
            Console.WriteLine(target.HasFences
                ? string.Create(inv, $"  fence order violations      {_fenceViolations} (a grant's fence not above the previous grant's)")
                : "  fence order: not checked (this target gives no fencing tokens)");
            Console.WriteLine(string.Create(inv,
                $"  FIFO: most grants to others between a request and its grant: {maxAhead} (fair queue: at most {options.Clients - 1}, plus any granted while the request was still in transit)"));
            // A fair queue grants every waiting client once per round, so the counts stay close: a turn or two apart from
            // the first round's order and the run's end, plus a turn now and then that a client misses because its next
            // request was still in transit when its turn came (others go round meanwhile; thousands of rounds add up a
            // few, at random, so they spread like the square root of the rounds). A queue that let some clients pass
            // others again and again spreads them in proportion to the rounds: 3 plus the square root of the mean is
            // the bound. (The most grants ahead above includes grants made while a request was still in transit, which
            // the client cannot tell apart: a figure, not a check.)
            var spread = MaxFairSpread(grants);
            var unfair = target.QueuesFairly && grants.Max() - grants.Min() > spread;
            Console.WriteLine(string.Create(inv, $"  grants per client (measured window): min {grants.Min():N0}, max {grants.Max():N0}{(target.QueuesFairly
                ? string.Create(inv, $" (FIFO check: at most {spread:N0} apart: {(unfair ? "VIOLATED" : "held")})") : "")}"));
            failed |= _exclusionViolations > 0 || _fenceViolations > 0 || unfair;
        }
        // Server CPU per request (a cycle is two requests), when the target was spawned: "-" otherwise.
        var perRequest = serverCpu is { } cpu && cycles.Count > 0
            ? string.Create(inv, $"{cpu.TotalMicroseconds / (2.0 * cycles.Count):F1}")
            : "-";
        if (perRequest != "-")
        {
            Console.WriteLine($"  server cpu per request {perRequest} µs (all its processes' CPU in the window / 2 per cycle)");
        }
        // One line for scripts (bench/run-cluster.sh and run-redis.sh build their tables from these).
        Console.WriteLine(string.Create(inv,
            $"SUMMARY\t{target.Name}\t{options.Scenario.ToString().ToLowerInvariant()}\t{options.Clients}\t{cycles.Count / seconds:F0}\t{cycles.Milliseconds(50):F3}\t{cycles.Milliseconds(99):F3}\t{errors}\t{(failed ? "FAILED" : "ok")}\t{perRequest}"));
        Console.WriteLine(failed ? "RESULT: FAILED (errors, violations or no completed cycle)" : "RESULT: ok");
        return failed ? 1 : 0;
    }

    private sealed class ClientState
    {
        public List<long> Cycles { get; } = new(1 << 14);

        public List<long> Acquires { get; } = new(1 << 14);

        public List<long> Releases { get; } = new(1 << 14);

        public long Errors { get; set; }

        public string? FirstError { get; set; }

        public long Grants { get; set; }

        public long MaxGrantsAhead { get; set; }
    }
}
