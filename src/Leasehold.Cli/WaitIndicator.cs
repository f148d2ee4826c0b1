using System.Diagnostics;
using System.Globalization;

namespace Leasehold.Cli;

/// <summary>
/// Shows that the tool is waiting for a lease. On a terminal (standard error not redirected): a live line
/// with the elapsed time and, when it can be had cheaply, the position in the queue, erased when the wait
/// ends. Otherwise, plain lines only: one when the wait has lasted a second, one when it is granted.
/// </summary>
internal sealed class WaitIndicator : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan PositionFirst = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan PositionEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AnnounceAfter = TimeSpan.FromSeconds(1);

    private readonly string _what;
    private readonly TimeSpan _wait;
    private readonly Func<CancellationToken, Task<int?>>? _position;
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private bool _drawn;
    private bool _announced;

    private WaitIndicator(string what, TimeSpan wait, Func<CancellationToken, Task<int?>>? position)
    {
        _what = what;
        _wait = wait;
        _position = position;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>An indicator for a wait of <paramref name="wait"/>; null when there is no wait to show.</summary>
    /// <param name="what">The request in a few words.</param>
    /// <param name="wait">How long the request may wait.</param>
    /// <param name="position">Finds this request's place in the queue (1 = next), or null when unknown.</param>
    public static WaitIndicator? Start(string what, TimeSpan wait, Func<CancellationToken, Task<int?>>? position = null)
        => wait > TimeSpan.Zero ? new WaitIndicator(what, wait, position) : null;

    private async Task LoopAsync()
    {
        try
        {
            if (!_terminal)
            {
                await Task.Delay(AnnounceAfter, _stop.Token);
                Console.Error.WriteLine($"leasehold: waiting for {_what} (up to {Durations.Format(_wait)})");
                _announced = true;
                return;
            }
            int? position = null;
            // The first look after the request has had time to join the queue, then once a second.
            var positionAt = PositionFirst;
            while (!_stop.IsCancellationRequested)
            {
                if (_position is not null && _elapsed.Elapsed >= positionAt)
                {
                    positionAt = _elapsed.Elapsed + PositionEvery;
                    try
                    {
                        position = await _position(_stop.Token);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        position = null;
                    }
                }
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"leasehold: waiting for {_what}: {_elapsed.Elapsed.TotalSeconds:0.0} s of {Durations.Format(_wait)}");
                if (position is { } p)
                {
                    line += $", {Ordinal(p)} in the queue";
                }
                Console.Error.Write("\r" + line + "\u001b[K");
                _drawn = true;
                await Task.Delay(Tick, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The wait ended.
        }
    }

    private static string Ordinal(int n) => n + ((n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch
    {
        1 => "st",
        2 => "nd",
        3 => "rd",
        _ => "th",
    });

    /// <summary>Stops the indicator; <paramref name="granted"/> adds the plain "granted" line where one was announced.</summary>
    public async Task StopAsync(bool granted)
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync();
        await _loop;
        if (_drawn)
        {
            Console.Error.Write("\r\u001b[K");
        }
        if (_announced && granted)
        {
            Console.Error.WriteLine($"leasehold: granted after {Durations.Format(_elapsed.Elapsed)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(granted: false);
        _stop.Dispose();
    }
}
