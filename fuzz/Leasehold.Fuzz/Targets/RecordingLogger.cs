using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Leasehold.Fuzz.Targets;

/// <summary>
/// Keeps every warning and error logged. The idserver front-end answers any exception with an error reply
/// and a warning, so a bug would look like an answer: the warning is how the harness sees it.
/// </summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<string> Problems { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Problems.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}
