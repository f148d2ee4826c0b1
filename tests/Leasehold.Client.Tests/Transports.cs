namespace Leasehold.Client.Tests;

// The contract suites, each run once per transport. A suite is an abstract class of tests written once
// (deriving from ContractTestBase); its concrete classes only say which transport.

public sealed class AcquireOverHttp : AcquireTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class AdminOverHttp : AdminTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class CancellationOverHttp : CancellationTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class DocExampleOverHttp : DocExampleTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class ErrorOverHttp : ErrorTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class FailoverOverHttp : FailoverTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

[Collection(TimingCollection.Name)]
public sealed class KeepAliveOverHttp : KeepAliveTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

[Collection(TimingCollection.Name)]
public sealed class LostTokenOverHttp : LostTokenTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class PoolOverHttp : PoolTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class UnreachableServerOverHttp : UnreachableServerTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class AcquireOverNative : AcquireTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class AdminOverNative : AdminTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class CancellationOverNative : CancellationTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class DocExampleOverNative : DocExampleTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class ErrorOverNative : ErrorTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class FailoverOverNative : FailoverTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

[Collection(TimingCollection.Name)]
public sealed class KeepAliveOverNative : KeepAliveTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

[Collection(TimingCollection.Name)]
public sealed class LostTokenOverNative : LostTokenTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class PoolOverNative : PoolTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class UnreachableServerOverNative : UnreachableServerTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class ClockOverHttp : ClockTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class ClockOverNative : ClockTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class TransportFailureOverHttp : TransportFailureTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class TransportFailureOverNative : TransportFailureTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}

public sealed class WatchOverHttp : WatchTests
{
    protected override ClientTransport Transport => ClientTransport.Http;
}

public sealed class WatchOverNative : WatchTests
{
    protected override ClientTransport Transport => ClientTransport.Native;
}
