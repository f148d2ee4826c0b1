namespace Leasehold.Client.Tests;

/// <summary>How a client reaches the test server: the URL scheme it is given.</summary>
public enum ClientTransport
{
    /// <summary><c>http://</c>: one HTTP request per call.</summary>
    Http,

    /// <summary><c>leasehold://</c>: the native protocol, one multiplexed connection per client.</summary>
    Native,
}

/// <summary>
/// The base of the client's contract tests: the behaviour every transport must show. Each test class deriving from it
/// is abstract and runs once per transport, through a concrete class per transport (see Transports.cs) that says which.
/// </summary>
public abstract class ContractTestBase : ClientTestBase
{
    /// <summary>The transport the tests of this class go through.</summary>
    protected abstract ClientTransport Transport { get; }

    /// <summary>The test server's address for <see cref="Transport"/>.</summary>
    protected Uri Address => Server.AddressOf(Transport);

    /// <summary>A client of the test server over <see cref="Transport"/>, disposed with the server.</summary>
    protected LeaseholdClient CreateClient(Action<LeaseholdClientOptions>? configure = null) => Server.CreateClient(Transport, configure);

    /// <summary>A relay in front of the test server for <see cref="Transport"/> (dispose it), and a client that talks through it.</summary>
    protected (BlackholeProxy Relay, LeaseholdClient Client) ClientThroughRelay(Action<LeaseholdClientOptions>? configure = null)
    {
        var relay = new BlackholeProxy(Server.PortOf(Transport), Transport == ClientTransport.Native);
        return (relay, CreateClient(o =>
        {
            o.Server = relay.Address;
            configure?.Invoke(o);
        }));
    }

    /// <summary>An address of <see cref="Transport"/>'s scheme where nothing listens.</summary>
    protected Uri DeadAddress() => DeadNode.Address(Transport);
}
