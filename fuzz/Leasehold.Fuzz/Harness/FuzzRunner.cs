using System.Collections.Concurrent;
using System.Diagnostics;
using CsCheck;

namespace Leasehold.Fuzz.Harness;

/// <summary>
/// Generates inputs with CsCheck and checks each on worker threads under a watchdog. Unlike
/// <c>Gen.Sample</c>, which stops at the first failure, it counts every failing input and keeps the
/// seed of each, and it gives each input its own seed derived from the run's seed and the input's number,
/// so that a run is reproducible and any input can be regenerated alone (see <see cref="FuzzTarget.Replay"/>).
/// </summary>
public static class FuzzRunner
{
    /// <summary>How often the watchdog looks at the inputs under way.</summary>
    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(50);

    public static FuzzReport Run<T>(string format, Gen<T> gen, Func<IInputChecker<T>> newChecker, Func<T, string> print, FuzzSettings settings)
    {
        var threads = Math.Max(1, settings.Threads);
        var slots = new Slot[threads];
        var examples = new ConcurrentQueue<FuzzFailure>();
        var next = -1L;
        var done = 0L;
        var failures = 0L;
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var workers = new Thread[threads];
        for (var t = 0; t < threads; t++)
        {
            var slot = slots[t] = new Slot();
            workers[t] = new Thread(() =>
            {
                IInputChecker<T>? checker = null;
                try
                {
                    checker = newChecker();
                    while (!stop.IsCancellationRequested)
                    {
                        var i = Interlocked.Increment(ref next);
                        if (i >= settings.Inputs)
                        {
                            break;
                        }
                        var pcg = InputPcg(settings.Seed, i);
                        var seed = pcg.ToString();
                        var input = gen.Generate(pcg, null!, out _);
                        slot.Begin(seed, input);
                        try
                        {
                            checker.Check(input);
                        }
                        catch (Exception ex)
                        {
                            if (Interlocked.Increment(ref failures) <= settings.MaxExamples)
                            {
                                examples.Enqueue(new FuzzFailure(seed, Shorten(Print(print, input)), Describe(ex)));
                            }
                        }
                        finally
                        {
                            slot.End();
                        }
                        Interlocked.Increment(ref done);
                    }
                }
                catch (Exception ex)
                {
                    // The checker itself could not be set up or torn down: the run cannot be trusted.
                    Interlocked.Increment(ref failures);
                    examples.Enqueue(new FuzzFailure("-", "(no input: the checker failed)", Describe(ex)));
                    stop.Cancel();
                }
                finally
                {
                    checker?.Dispose();
                }
            })
            { IsBackground = true, Name = $"fuzz-{format}-{t}" };
            workers[t].Start();
        }
        FuzzFailure? hang = null;
        // A worker may end between the two looks: take the one found alive, if any, rather than look twice.
        while (workers.FirstOrDefault(w => w.IsAlive) is { } alive)
        {
            alive.Join(WatchInterval);
            foreach (var slot in slots)
            {
                if (slot.Overran(settings.InputBudget) is { } overrun)
                {
                    hang = new FuzzFailure(overrun.Seed, Shorten(Print(print, (T)overrun.Input!)), $"took longer than {settings.InputBudget.TotalSeconds} s");
                    break;
                }
            }
            if (hang is not null)
            {
                // The stuck thread cannot be stopped; the others finish their input, and the run ends here.
                stop.Cancel();
                foreach (var worker in workers)
                {
                    worker.Join(settings.InputBudget);
                }
                break;
            }
        }
        clock.Stop();
        return new FuzzReport(format, Interlocked.Read(ref done), Interlocked.Read(ref failures), clock.Elapsed, settings.Seed, [.. examples]) { Hang = hang };
    }

    /// <summary>Input <paramref name="index"/>'s generator state: SplitMix64 of the run's seed and the index.</summary>
    public static PCG InputPcg(ulong seed, long index)
    {
        var z = seed + (0x9E3779B97F4A7C15UL * (ulong)(index + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return new PCG((uint)(index & 0x7FFF_FFFF), z ^ (z >> 31));
    }

    private static string Print<T>(Func<T, string> print, T input)
    {
        try
        {
            return print(input);
        }
        catch (Exception ex)
        {
            return $"(cannot print the input: {ex.Message})";
        }
    }

    private static string Describe(Exception ex) => ex is FuzzCheckException check && check.InnerException is null
        ? check.Message
        : ex.ToString();

    private static string Shorten(string text) => text.Length <= 2000 ? text : text[..2000] + $"... ({text.Length} characters)";

    /// <summary>What one worker is checking and since when; written by the worker, read by the watchdog.</summary>
    private sealed class Slot
    {
        private readonly Lock _gate = new();
        private long _started;
        private string _seed = "";
        private object? _input;

        public void Begin(string seed, object? input)
        {
            lock (_gate)
            {
                (_seed, _input, _started) = (seed, input, Stopwatch.GetTimestamp());
            }
        }

        public void End()
        {
            lock (_gate)
            {
                (_seed, _input, _started) = ("", null, 0);
            }
        }

        public (string Seed, object? Input)? Overran(TimeSpan budget)
        {
            lock (_gate)
            {
                return _started != 0 && Stopwatch.GetElapsedTime(_started) > budget ? (_seed, _input) : null;
            }
        }
    }
}
