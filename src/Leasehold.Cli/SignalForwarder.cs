using System.Runtime.InteropServices;

namespace Leasehold.Cli;

/// <summary>
/// Takes SIGINT and SIGTERM away from .NET's default handling. Before a child runs, a signal cancels
/// <see cref="Interrupted"/> (the wait for the lease stops, the tool releases and exits 128+N); while a
/// child runs, the signal is passed on to it with kill(2), and the tool goes on waiting for it to exit.
/// </summary>
internal sealed class SignalForwarder : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;
    private readonly CancellationTokenSource _interrupted = new();
    private readonly Lock _gate = new();
    private int? _child;

    public SignalForwarder()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];
    }

    /// <summary>Cancelled by the first signal that arrives while no child runs.</summary>
    public CancellationToken Interrupted => _interrupted.Token;

    /// <summary>The number of the first signal received, if any.</summary>
    public int? Received { get; private set; }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        var signal = Posix.Number(context.Signal);
        lock (_gate)
        {
            Received ??= signal;
            if (_child is { } child)
            {
                Posix.Kill(child, signal);
                return;
            }
        }
        _interrupted.Cancel();
    }

    /// <summary>From now on signals go to the process <paramref name="child"/>; one that came just before it started is passed on at once.</summary>
    public void Attach(int child)
    {
        lock (_gate)
        {
            _child = child;
            if (Received is { } early)
            {
                Posix.Kill(child, early);
            }
        }
    }

    public void Detach()
    {
        lock (_gate)
        {
            _child = null;
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _interrupted.Dispose();
    }
}
