using Leasehold.Core;

namespace Leasehold.Bench;

internal static class BenchPaths
{
    public static ResourcePath Parse(string text)
        => ResourcePath.TryParse(text, out var path, out var error)
            ? path
            : throw new ArgumentException($"bad benchmark path {text}: {error}", nameof(text));

    public static Lease Grant(LockEngine engine, AcquireLease command)
    {
        var result = engine.Acquire(command);
        return result.Lease ?? throw new InvalidOperationException($"expected a grant for {command.Paths[0]}, got {result.Error}: {result.Detail}");
    }
}
