namespace Leasehold.DistributedLock.Tests;

// The contract suites, each run once per transport: an abstract class of tests written once, and here one concrete
// class per transport that only says which.

public sealed class LockOverHttp : LockTests
{
    protected override Transport Transport => Transport.Http;
}

public sealed class LockOverNative : LockTests
{
    protected override Transport Transport => Transport.Native;
}

public sealed class ReaderWriterLockOverHttp : ReaderWriterLockTests
{
    protected override Transport Transport => Transport.Http;
}

public sealed class ReaderWriterLockOverNative : ReaderWriterLockTests
{
    protected override Transport Transport => Transport.Native;
}

public sealed class SemaphoreOverHttp : SemaphoreTests
{
    protected override Transport Transport => Transport.Http;
}

public sealed class SemaphoreOverNative : SemaphoreTests
{
    protected override Transport Transport => Transport.Native;
}

public sealed class CrossProcessOverHttp : CrossProcessTests
{
    protected override Transport Transport => Transport.Http;
}

public sealed class CrossProcessOverNative : CrossProcessTests
{
    protected override Transport Transport => Transport.Native;
}
