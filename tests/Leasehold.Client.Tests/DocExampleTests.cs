using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Client.Tests;

/// <summary>
/// The examples of docs/client.md, as written there (but for the server's address, shorter waits, and a bound
/// on every wait), compiled and run against a real server: if the API changes under them, this stops
/// compiling or fails.
/// </summary>
public abstract class DocExampleTests : ContractTestBase
{
    [Fact]
    public async Task Several_servers()
    {
        // Two nodes that are down stand in for locks-1 and locks-2; the third is the real server.
        using var client = new LeaseholdClient(new LeaseholdClientOptions
        {
            Servers = [DeadAddress(), DeadAddress(), Address],
        });

        await using var lease = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/jobs/nightly")));
        Assert.Equal(lease.Id, Assert.Single((await Bounded(client.GetResourceAsync("/jobs/nightly"))).Holders).Id);
    }

    [Fact]
    public async Task Making_a_client_and_acquiring()
    {
        using var bound = new CancellationTokenSource(ClientTestServer.Timeout);
        var cancellationToken = bound.Token;
        using var client = new LeaseholdClient(new LeaseholdClientOptions
        {
            Server = Address,
            Owner = "nightly-report",              // shown to people as the holder; per request with AcquireOptions.Owner
        });

        var job = AcquireOptions.ForPath("/jobs/nightly") with { Wait = TimeSpan.FromMinutes(1) };
        var tables = AcquireOptions.ForPaths("/db/orders", "/db/users") with { Shared = true };
        var slot = AcquireOptions.ForPath("/licenses/matlab") with { Limit = 3, Ttl = TimeSpan.FromMinutes(10) };

        // Throws LeaseholdTimeoutException (a TimeoutException) when not granted within the wait.
        await using var lease = await client.AcquireAsync(job, cancellationToken);

        // Returns null instead.
        await using var maybe = await client.TryAcquireAsync(AcquireOptions.ForPath("/jobs/cleanup"), cancellationToken);
        if (maybe is null)
        {
            Assert.Fail("/jobs/cleanup is free");
        }

        Assert.Equal("nightly-report", lease.Lease.Owner);
        await using var shared = await Bounded(client.AcquireAsync(tables));
        await using var semaphore = await Bounded(client.AcquireAsync(slot));
        Assert.Equal(3, semaphore.Lease.Limit);
        Assert.Null(await Bounded(client.TryAcquireAsync(AcquireOptions.ForPath("/jobs/cleanup"))));
    }

    [Fact]
    public async Task Dependency_injection()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Leasehold:Server"] = Address.ToString(), ["Leasehold:Owner"] = "configured" })
            .Build();

        services.AddLeaseholdClient(o => o.Server = new Uri("leasehold://locks.internal:8766"));
        // or from configuration (section "Leasehold"):
        services.AddLeaseholdClient();
        services.Configure<LeaseholdClientOptions>(configuration.GetSection("Leasehold"));

        await using var provider = services.BuildServiceProvider();
        // later
        var client = provider.GetRequiredService<LeaseholdClient>();

        // Configuration is applied after the delegate, so it wins here.
        Assert.Equal(Address, client.Options.Server);
        await using var lease = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/di/doc")));
        Assert.Equal("configured", lease.Lease.Owner);
    }

    [Fact]
    public async Task Pools()
    {
        await Server.DeclareAsync("/lab/phone-7", """{"id": "phone-7", "os": "android", "online": true, "kind": "phone"}""");
        await Server.DeclareAsync("/lab/sim-1", """{"id": "sim-1", "kind": "sim"}""");
        await Server.DeclareAsync("/lab/sim-2", """{"id": "sim-2", "kind": "sim"}""");
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = Address });

        await using (var phone = await Bounded(client.AcquireAsync(
            AcquireOptions.FromPool("/lab", "os=android&online=true") with { Ttl = TimeSpan.FromMinutes(10), Wait = TimeSpan.FromMinutes(5) })))
        {
            var chosen = phone.Resources[0];
            Console.WriteLine($"{chosen.Path}: {chosen.Attributes?.GetProperty("id")}");
            Assert.Equal("/lab/phone-7", chosen.Path);
        }

        // Several groups at once, each from its own requirement:
        var rig = new AcquireOptions
        {
            Groups = [new PoolRequirement("/lab", """{"kind": "phone"}"""), new PoolRequirement("/lab", "kind=sim", Count: 2)],
            Wait = TimeSpan.FromMinutes(1),
        };
        await using var all = await Bounded(client.AcquireAsync(rig));
        Assert.Equal(3, all.Resources.Count);
    }

    [Fact]
    public async Task LostToken_ties_the_work_to_the_lease()
    {
        using var bound = new CancellationTokenSource(ClientTestServer.Timeout);
        var cancellationToken = bound.Token;
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = Address });
        var working = new TaskCompletionSource<LeaseHandle>(TaskCreationOptions.RunContinuationsAsynchronously);
        LeaseHandle? current = null;

        async Task RunNightlyAsync(long fence, CancellationToken token)
        {
            Assert.Equal(current!.Fence, fence);
            working.SetResult(current);
            await Task.Delay(Timeout.Infinite, token); // Works until the lease is lost.
        }

        var running = Task.Run(async () =>
        {
            await using var lease = await client.AcquireAsync(AcquireOptions.ForPath("/jobs/nightly"), cancellationToken);
            current = lease;
            using var work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.LostToken);
            await RunNightlyAsync(lease.Fence, work.Token);
        });
        var handle = await Bounded(working.Task);

        // Someone with the token releases the lease behind the worker's back.
        await Bounded(CreateClient().ReleaseAsync(handle.Id, handle.Token));

        // The work stops once the handle notices (within a keep-alive period).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(running));
        Assert.True(handle.LostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task EarlyLostToken_leaves_time_to_wind_down()
    {
        using var bound = new CancellationTokenSource(ClientTestServer.Timeout);
        var cancellationToken = bound.Token;
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = Address });
        var working = new TaskCompletionSource<LeaseHandle>(TaskCreationOptions.RunContinuationsAsynchronously);
        LeaseHandle? current = null;
        var heldWhenStopped = false;

        async Task RunNightlyAsync(long fence, CancellationToken token)
        {
            Assert.Equal(current!.Fence, fence);
            working.SetResult(current);
            try
            {
                await Task.Delay(Timeout.Infinite, token); // Works until the lease is about to be lost.
            }
            finally
            {
                heldWhenStopped = !current.LostToken.IsCancellationRequested;
            }
        }

        var running = Task.Run(async () =>
        {
            // As in the docs, with a lifetime of 3 s and a lead of 1 s instead of 1 min and 10 s.
            await using var lease = await client.AcquireAsync(AcquireOptions.ForPath("/jobs/nightly") with { Ttl = TimeSpan.FromSeconds(3) });
            current = lease;
            using var work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.EarlyLostToken(TimeSpan.FromSeconds(1)));
            await RunNightlyAsync(lease.Fence, work.Token);
        });
        await Bounded(working.Task);

        // The server goes away: no renewal gets through from now on.
        await Server.StopAsync();

        // The work stops while the lease may still be held: with time to spare before it could expire.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(running));
        Assert.True(heldWhenStopped, "LostToken had fired before the work was stopped");
    }

    [Fact]
    public async Task Errors()
    {
        await Server.DeclareAsync("/lab/phone-1", """{"os": "android"}""");
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = Address });
        var outcomes = new List<string>();
        foreach (var requirement in new[] { """{"os": "ios"}""", """{"os": {"$nope": 1}}""", "os=android" })
        {
            await using var holder = requirement == "os=android" ? await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/lab/phone-1"))) : null;
            try
            {
                await using var device = await Bounded(client.AcquireAsync(AcquireOptions.FromPool("/lab", requirement) with { Wait = TimeSpan.FromSeconds(0.2) }));
                outcomes.Add("granted");
            }
            catch (LeaseholdTimeoutException)
            {
                // all matching devices stayed busy for 30 s
                outcomes.Add("timeout");
            }
            catch (LeaseholdNoMatchException)
            {
                // no such device is declared at all
                outcomes.Add("no-match");
            }
            catch (LeaseholdException ex) when (ex.Code == "invalid-query")
            {
                // the requirement is malformed: ex.Message names the operator
                outcomes.Add("invalid-query");
            }
            catch (LeaseholdUnavailableException ex)
            {
                // the server at ex.Server did not answer
                outcomes.Add("unreachable " + ex.Server);
            }
        }
        Assert.Equal(["no-match", "invalid-query", "timeout"], outcomes);
    }

    [Fact]
    public async Task Administration()
    {
        using var bound = new CancellationTokenSource(ClientTestServer.Timeout);
        var cancellationToken = bound.Token;
        var client = CreateClient();
        await using var old = await client.AcquireAsync(AcquireOptions.ForPath("/lab/rack-2/phone-7") with { Ttl = TimeSpan.FromMinutes(5) }, cancellationToken);
        await using var worker = await client.AcquireAsync(AcquireOptions.ForPath("/jobs/w7") with { Owner = "worker-7" }, cancellationToken);

        // Maintenance of a rig: nothing new is granted there; what is held runs out or is revoked.
        await client.Admin.DrainAsync("/lab/rack-2", cancellationToken);
        var held = await client.Admin.ListLeasesAsync(new LeaseFilter { Prefix = "/lab/rack-2", OlderThan = TimeSpan.Zero }, cancellationToken);
        foreach (var stale in held.Leases)
        {
            await client.Admin.RevokeLeaseAsync(stale.Id, cancellationToken);   // history: "revoked", endedBy
        }
        var drains = await client.Admin.ListDrainsAsync(cancellationToken);
        await client.Admin.UndrainAsync("/lab/rack-2", cancellationToken);     // the waiters are granted in queue order
        var sessions = await client.Admin.ListSessionsAsync(new LeaseFilter { Owner = "worker-7" }, cancellationToken);

        Assert.Equal([old.Id], held.Leases.Select(l => l.Id));
        Assert.Null(await client.GetLeaseAsync(old.Id));
        Assert.Equal(["/lab/rack-2"], drains.Select(d => d.Path));
        Assert.Equal([worker.SessionId!.Value], sessions.Sessions.Select(s => s.Id));
    }

    [Fact]
    public async Task Watching_changes()
    {
        using var client = CreateClient();
        using var bound = new CancellationTokenSource(ClientTestServer.Timeout);
        var cancellationToken = bound.Token;
        await using var before = await Bounded(client.AcquireAsync(AcquireOptions.ForPath("/lab/before") with { Ttl = TimeSpan.FromSeconds(30) }));
        var held = new Dictionary<long, Leasehold.Protocol.LeaseDto>();
        var taken = false;

        await foreach (var e in client.WatchAsync("/lab", new WatchOptions { Snapshot = true }, cancellationToken))
        {
            if (e.IsReset)
            {
                held.Clear();                          // the server no longer had every event: a snapshot comes next
            }
            else if (e.IsSnapshot)
            {
                held = e.Holders!.ToDictionary(l => l.Id);
            }
            else if (e.Type == Leasehold.Protocol.EventTypes.Granted)
            {
                held[e.Lease!.Id] = e.Lease;           // e.Revision, e.At, e.Paths, e.Lease.Owner, e.Lease.Fence, e.Waited
            }
            else if (e.Type == Leasehold.Protocol.EventTypes.Released)
            {
                held.Remove(e.Lease!.Id);              // e.Reason: released, expired, session-ended, revoked
            }

            // The test's part: once the snapshot is in, a lease is taken and released; the loop ends when both came.
            if (!taken)
            {
                taken = true;
                Assert.Equal([before.Id], held.Keys);
                await using var lease = await client.AcquireAsync(AcquireOptions.ForPath("/lab/phone-7") with { Ttl = TimeSpan.FromSeconds(30) }, cancellationToken);
            }
            else if (e.Type == Leasehold.Protocol.EventTypes.Released)
            {
                break;
            }
        }
        Assert.Equal([before.Id], held.Keys);
    }
}
