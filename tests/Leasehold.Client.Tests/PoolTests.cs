using System.Text.Json;

namespace Leasehold.Client.Tests;

/// <summary>Allocation by requirement through the client: the chosen resources come back with their attributes.</summary>
public abstract class PoolTests : ContractTestBase
{
    private async Task DeclareLabAsync()
    {
        await Server.DeclareAsync("/lab/phone-1", """{"id": "phone-1", "os": "android", "online": true, "n": "1"}""");
        await Server.DeclareAsync("/lab/phone-2", """{"id": "phone-2", "os": "ios", "online": true, "n": 1}""");
        await Server.DeclareAsync("/lab/phone-3", """{"id": "phone-3", "os": "android", "online": false}""");
    }

    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task A_pool_lease_returns_the_chosen_resources_with_their_attributes(double? ttl)
    {
        await DeclareLabAsync();
        var client = CreateClient();

        await using var lease = await Bounded(client.AcquireAsync(
            AcquireOptions.FromPool("/lab", """{"os": "android", "online": true}""") with { Ttl = ttl is { } s ? TimeSpan.FromSeconds(s) : null }));

        var chosen = Assert.Single(lease.Resources);
        Assert.Equal("/lab/phone-1", chosen.Path);
        Assert.Equal(0, chosen.Group);
        Assert.NotNull(chosen.Attributes);
        var attributes = chosen.Attributes.Value;
        Assert.Equal("phone-1", attributes.GetProperty("id").GetString());
        Assert.Equal("android", attributes.GetProperty("os").GetString());
        Assert.Equal(JsonValueKind.True, attributes.GetProperty("online").ValueKind);
        Assert.Equal(["/lab/phone-1"], lease.Paths);
        Assert.Equal(lease.Id, Assert.Single((await Bounded(client.GetResourceAsync("/lab/phone-1"))).Holders).Id);
    }

    [Fact]
    public async Task The_k_equals_v_shorthand_passes_through_with_the_server_s_meaning()
    {
        await DeclareLabAsync();
        var client = CreateClient();

        // true becomes a boolean; every other value stays a string: n=1 is the string "1" (phone-1), not the number (phone-2).
        await using var lease = await Bounded(client.AcquireAsync(AcquireOptions.FromPool("/lab", "online=true&n=1") with { Ttl = TimeSpan.FromSeconds(30) }));
        Assert.Equal("/lab/phone-1", Assert.Single(lease.Resources).Path);

        // Only one resource matches n=1 so read: two can never be had.
        await Assert.ThrowsAsync<LeaseholdNoMatchException>(() => Bounded(client.AcquireAsync(AcquireOptions.FromPool("/lab", "n=1", count: 2))));

        // And the shorthand's other rules: online=false is the boolean.
        await using var offline = await Bounded(client.AcquireAsync(AcquireOptions.FromPool("/lab", "os=android&online=false") with { Ttl = TimeSpan.FromSeconds(30) }));
        Assert.Equal("/lab/phone-3", Assert.Single(offline.Resources).Path);
    }

    [Fact]
    public async Task Groups_are_allocated_together_and_a_busy_pool_answers_null()
    {
        await DeclareLabAsync();
        var client = CreateClient();
        var options = new AcquireOptions
        {
            Groups = [new PoolRequirement("/lab", """{"os": "ios"}"""), new PoolRequirement("/lab", "os=android", 2)],
            Ttl = TimeSpan.FromSeconds(30),
        };

        await using var all = await Bounded(client.AcquireAsync(options));

        Assert.Equal(3, all.Resources.Count);
        Assert.Equal("/lab/phone-2", Assert.Single(all.Resources, r => r.Group == 0).Path);
        Assert.Equal(["/lab/phone-1", "/lab/phone-3"], all.Resources.Where(r => r.Group == 1).Select(r => r.Path).Order(StringComparer.Ordinal));
        Assert.Null(await Bounded(client.TryAcquireAsync(AcquireOptions.FromPool("/lab") with { Wait = TimeSpan.FromSeconds(0.2) })));
    }

    [Fact]
    public async Task Giving_both_paths_and_groups_is_refused_before_anything_is_sent()
    {
        var client = CreateClient();
        var both = AcquireOptions.ForPath("/lab/phone-1") with { Groups = [new PoolRequirement("/lab")] };

        await Assert.ThrowsAsync<ArgumentException>(() => Bounded(client.TryAcquireAsync(both)));
        await Assert.ThrowsAsync<ArgumentException>(() => Bounded(client.TryAcquireAsync(new AcquireOptions())));
        Assert.Equal(0, (await Server.StatsAsync()).Sessions);
    }
}
