using System.Collections.Concurrent;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Server.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests;

/// <summary>
/// A queued acquire whose caller gave up after the writer had granted it, but before the grant was delivered: the
/// lease is released (nobody knows its token), and whoever watched it for the caller (a native connection) is not
/// told of that end. It never told its client of the lease, so it would have to keep the push for a grant it will
/// never write, for as long as it lives.
/// </summary>
public sealed class AbandonedGrantTests
{
    private sealed class Recorder : IEndWatcher
    {
        public ConcurrentQueue<(EndedKind Kind, long Id, EndReason Reason)> Ended { get; } = new();

        public void OnEnded(EndedKind kind, long id, EndReason reason) => Ended.Enqueue((kind, id, reason));
    }

    [Fact]
    public async Task A_grant_abandoned_before_delivery_is_released_and_its_watcher_is_not_told()
    {
        await using var server = await TestServer.StartAsync([]);
        var host = server.App.Services.GetRequiredService<EngineHost>();
        Assert.True(ResourcePath.TryParse("/abandoned/a", out var path, out var error), error);
        var holder = await host.AcquireAsync(new AcquireSpec { Paths = [path], Token = 1, TtlMs = 60_000 }, CancellationToken.None);
        var holderId = holder.Lease!.Id;

        var watcher = new Recorder();
        using var gone = new CancellationTokenSource();
        var spec = new AcquireSpec { Paths = [path], Token = 2, TtlMs = 60_000, WaitMs = 30_000 };
        var pending = (await host.ExecuteAsync(w => host.StartAcquire(w, spec.Command(w.Now, Tokens.Hash(spec.Token)), spec.Token, false, watcher, answerInline: false))
            .WaitAsync(TestServer.Timeout)).Pending;
        Assert.NotNull(pending);
        // Its caller waits (as AcquireAsync does) before anything is granted.
        var waiting = host.WaitGrantAsync(pending, gone.Token);
        Assert.False(waiting.IsCompleted);

        // One writer step releases the holder, which grants the waiter, and, before that step's batch is answered, the
        // waiter's caller goes away: its cancellation is seen first, and its leaving reaches the writer after the grant.
        var waiterLease = await host.ExecuteAsync(w =>
        {
            Assert.Equal(ErrorCode.None, w.Release(w.Engine.GetLease(holderId)!).Error);
            var granted = w.Engine.Leases.Single(l => l.Id != holderId);
            gone.Cancel();
            return granted.Id;
        }).WaitAsync(TestServer.Timeout);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TestServer.Timeout));
        // Everything the writer decided by now has been answered (batches are answered in order).
        await host.ExecuteAsync(w => 0).WaitAsync(TestServer.Timeout);

        Assert.Null(await host.ExecuteAsync(w => w.Engine.GetLease(waiterLease)));
        Assert.DoesNotContain(watcher.Ended, e => e.Id == waiterLease);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_grant_never_delivered_is_unwatched_and_released_unless_it_was_an_earlier_ones(bool reused)
    {
        // The connection it was for is gone (or the answer did not fit its frame): whoever watched the lease for it stops,
        // whether or not the lease stays (an idempotent retry's lease is its earlier holder's and stays).
        await using var server = await TestServer.StartAsync([]);
        var host = server.App.Services.GetRequiredService<EngineHost>();
        Assert.True(ResourcePath.TryParse("/undelivered/a", out var path, out var error), error);
        var watcher = new Recorder();
        var before = await host.ExecuteAsync(w => host.Watched);
        var granted = await host.AcquireAsync(new AcquireSpec { Paths = [path], Token = 3, TtlMs = 60_000 }, CancellationToken.None, watcher);
        var id = granted.Lease!.Id;
        Assert.Equal(before + 1, await host.ExecuteAsync(w => host.Watched));

        await host.ForgetUndeliveredGrantAsync(id, watcher, reused).WaitAsync(TestServer.Timeout);

        Assert.Equal(before, await host.ExecuteAsync(w => host.Watched));
        Assert.Equal(reused, await host.ExecuteAsync(w => w.Engine.GetLease(id) is not null));
        Assert.Empty(watcher.Ended);
    }
}
