namespace Leasehold.Fuzz.Harness;

/// <summary>
/// Checks inputs on one worker thread. It owns whatever the checks need (an engine, a data directory, a
/// connection) and throws on an input the code under test mishandles; it is never called concurrently.
/// </summary>
public interface IInputChecker<in T> : IDisposable
{
    void Check(T input);
}

/// <summary>A checker from a delegate, for targets that need no state of their own.</summary>
public sealed class DelegateChecker<T>(Action<T> check) : IInputChecker<T>
{
    public void Check(T input) => check(input);

    public void Dispose()
    {
    }
}

/// <summary>The code under test did something the format's contract forbids.</summary>
public sealed class FuzzCheckException(string message, Exception? inner = null) : Exception(message, inner);
