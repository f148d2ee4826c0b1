using Leasehold.Core;
using Leasehold.Server.Engine;
using Leasehold.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Leasehold.Server.Tests;

/// <summary>
/// The data directory's flusher starts with the host (<see cref="EngineHost.Start()"/>, which the server calls when it
/// starts), not when the host is made: until then work is applied but not answered. A host closed before it started
/// still keeps and answers what it was given.
/// </summary>
public sealed class HostStartTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "leasehold-host-start-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    private EngineHost Open()
    {
        var store = DataStore.Open(_dataDir);
        return new EngineHost(store.Engine, store, new DurabilityOptions(), TimeProvider.System, NullLogger<EngineHost>.Instance);
    }

    private static Task<long> AcquireAsync(EngineHost host, string path)
    {
        Assert.True(ResourcePath.TryParse(path, out var parsed, out var error), error);
        return host.ExecuteAsync(w => w.Run(new AcquireLease { Now = w.Now, Paths = [parsed], Token = TokenHash.Of(7) }, static (e, c) => e.Acquire(c)).Lease!.Id);
    }

    [Fact]
    public async Task Work_is_answered_once_the_host_is_started_and_starting_twice_does_nothing_more()
    {
        await using var host = Open();
        var acquired = AcquireAsync(host, "/s/a");

        // Applied on the writer (inline, before AcquireAsync returned), but its batch waits for a flusher that has not
        // started: nothing else could answer it.
        Assert.Equal(2, host.LoggedCommands);
        Assert.False(host.Store!.Started);
        Assert.False(acquired.IsCompleted);
        Assert.Equal(0, host.Syncs);

        host.Start();
        host.Start();
        Assert.True(host.Store.Started);
        Assert.True(await acquired.WaitAsync(TestServer.Timeout) > 0);
        Assert.Equal(1, await host.ExecuteAsync(w => w.Engine.Leases.Count).WaitAsync(TestServer.Timeout));
    }

    [Fact]
    public async Task A_host_closed_before_it_started_keeps_and_answers_what_it_was_given()
    {
        var host = Open();
        var acquired = AcquireAsync(host, "/s/b");

        await host.DisposeAsync().AsTask().WaitAsync(TestServer.Timeout);
        var id = await acquired.WaitAsync(TestServer.Timeout);

        using var store = DataStore.Open(_dataDir);
        Assert.NotNull(store.Engine.GetLease(id));
    }
}
