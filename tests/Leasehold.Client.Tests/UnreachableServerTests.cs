namespace Leasehold.Client.Tests;

/// <summary>
/// A server that cannot be reached is a <see cref="LeaseholdUnavailableException"/> naming its address,
/// not the transport's raw exception; the caller's own cancellation stays a cancellation.
/// </summary>
public abstract class UnreachableServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    protected abstract ClientTransport Transport { get; }

    public static TheoryData<string> Calls => ["get-resource", "release", "acquire-with-ttl", "acquire-with-session"];

    [Theory]
    [MemberData(nameof(Calls))]
    public async Task Every_call_to_a_closed_port_throws_LeaseholdUnavailableException_naming_the_server(string call)
    {
        var server = DeadNode.Address(Transport);
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = server, Retries = 1 });

        Task work = call switch
        {
            "get-resource" => client.GetResourceAsync("/lab/a"),
            "release" => client.ReleaseAsync(1, new string('0', 32)),
            "acquire-with-ttl" => client.AcquireAsync(AcquireOptions.ForPath("/lab/a") with { Ttl = TimeSpan.FromSeconds(30) }),
            _ => client.AcquireAsync(AcquireOptions.ForPath("/lab/a")),
        };
        var thrown = await Assert.ThrowsAsync<LeaseholdUnavailableException>(() => work.WaitAsync(Bound));

        // One family to catch: it is a LeaseholdException, with the transport's failure as its cause.
        Assert.IsAssignableFrom<LeaseholdException>(thrown);
        Assert.Equal(server, thrown.Server);
        Assert.Contains(server.ToString(), thrown.Message, StringComparison.Ordinal);
        Assert.Equal("unreachable", thrown.Code);
        Assert.Equal(0, thrown.Status);
        Assert.IsType(Transport == ClientTransport.Native ? typeof(System.Net.Sockets.SocketException) : typeof(HttpRequestException), thrown.InnerException);
    }

    [Fact]
    public async Task The_callers_cancellation_stays_an_OperationCanceledException()
    {
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = DeadNode.Address(Transport) });
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResourceAsync("/lab/a", cancelled.Token).WaitAsync(Bound));
    }
}
