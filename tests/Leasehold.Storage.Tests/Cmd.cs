using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>Short ways to build commands and read results in tests.</summary>
public static class Cmd
{
    public const long T0 = 1_700_000_000_000;

    public static ResourcePath P(string text)
    {
        Assert.True(ResourcePath.TryParse(text, out var path, out var error), $"{text}: {error}");
        return path;
    }

    public static ResourcePath[] Ps(params string[] texts) => [.. texts.Select(P)];

    /// <summary>The granted lease of an acquire that must have succeeded at once.</summary>
    public static Lease Granted(object? result)
    {
        var acquire = Assert.IsType<AcquireResult>(result);
        Assert.Equal(ErrorCode.None, acquire.Error);
        Assert.NotNull(acquire.Lease);
        return acquire.Lease;
    }

    /// <summary>The queued waiter of an acquire that must have been queued.</summary>
    public static Waiter Queued(object? result)
    {
        var acquire = Assert.IsType<AcquireResult>(result);
        Assert.Equal(ErrorCode.None, acquire.Error);
        Assert.NotNull(acquire.Waiter);
        return acquire.Waiter;
    }
}
