namespace Leasehold.Core.Tests;

/// <summary>Enum numbers go to disk and onto the wire: a renumbering must fail here first.</summary>
public class PersistedValuesTests
{
    [Fact]
    public void ErrorCodeNumbersAreFrozen()
    {
        var expected = new Dictionary<ErrorCode, int>
        {
            [ErrorCode.None] = 0,
            [ErrorCode.Locked] = 1,
            [ErrorCode.NotFound] = 2,
            [ErrorCode.InvalidToken] = 3,
            [ErrorCode.InvalidPath] = 4,
            [ErrorCode.InvalidArgument] = 5,
            [ErrorCode.LimitMismatch] = 6,
            [ErrorCode.ShuttingDown] = 7,
            [ErrorCode.SessionEnded] = 8,
            [ErrorCode.InvalidQuery] = 9,
            [ErrorCode.NoMatch] = 10,
            [ErrorCode.ResourceBusy] = 11,
            [ErrorCode.Draining] = 12,
        };
        Assert.Equal(expected.Count, Enum.GetValues<ErrorCode>().Length);
        Assert.All(expected, e => Assert.Equal(e.Value, (int)e.Key));
    }

    [Fact]
    public void EndReasonNumbersAreFrozen()
    {
        Assert.Equal(4, Enum.GetValues<Leasehold.Core.Pools.EndReason>().Length);
        Assert.Equal(0, (int)Leasehold.Core.Pools.EndReason.Released);
        Assert.Equal(1, (int)Leasehold.Core.Pools.EndReason.Expired);
        Assert.Equal(2, (int)Leasehold.Core.Pools.EndReason.SessionEnded);
        Assert.Equal(3, (int)Leasehold.Core.Pools.EndReason.Revoked);
    }

    [Fact]
    public void LockModeNumbersAreFrozen()
    {
        Assert.Equal(2, Enum.GetValues<LockMode>().Length);
        Assert.Equal(0, (int)LockMode.Exclusive);
        Assert.Equal(1, (int)LockMode.Shared);
    }
}
