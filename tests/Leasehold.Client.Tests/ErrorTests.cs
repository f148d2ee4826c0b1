using Leasehold.Protocol;

namespace Leasehold.Client.Tests;

/// <summary>The server's refusals arrive as typed exceptions carrying the problem's stable code.</summary>
public abstract class ErrorTests : ContractTestBase
{
    [Theory]
    [InlineData(30.0)]
    [InlineData(null)]
    public async Task An_invalid_path_is_a_LeaseholdException_with_code_invalid_path(double? ttl)
    {
        var client = CreateClient();

        var thrown = await Assert.ThrowsAsync<LeaseholdException>(() => Bounded(client.AcquireAsync(PathOptions("lab/no-leading-slash", ttl))));

        Assert.Equal(ErrorCodes.InvalidPath, thrown.Code);
        Assert.Equal("invalid-path", thrown.Code);
        Assert.Equal(400, thrown.Status);
        Assert.Contains("invalid-path", thrown.Message, StringComparison.Ordinal);
        // Nothing stays behind: the session opened for the attempt (when there was one) is closed.
        var stats = await Server.StatsAsync();
        Assert.Equal(0, stats.Sessions);
        Assert.Equal(0, stats.Leases);
    }

    [Fact]
    public async Task A_malformed_requirement_is_a_LeaseholdException_with_code_invalid_query()
    {
        await Server.DeclareAsync("/lab/phone-1", """{"os": "android"}""");
        var client = CreateClient();

        var thrown = await Assert.ThrowsAsync<LeaseholdException>(() => Bounded(client.AcquireAsync(
            AcquireOptions.FromPool("/lab", """{"os": {"$bogus": 1}}""") with { Ttl = TimeSpan.FromSeconds(30) })));

        Assert.Equal("invalid-query", thrown.Code);
        Assert.Equal(400, thrown.Status);
        Assert.Contains("$bogus", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_requirement_nothing_declared_can_meet_is_a_LeaseholdNoMatchException()
    {
        await Server.DeclareAsync("/lab/phone-1", """{"os": "android"}""");
        await Server.DeclareAsync("/lab/phone-2", """{"os": "android"}""");
        var client = CreateClient();

        // Even with a long wait: waiting could never help, so the answer comes at once.
        var thrown = await Assert.ThrowsAsync<LeaseholdNoMatchException>(() => Bounded(client.AcquireAsync(
            AcquireOptions.FromPool("/lab", """{"os": "ios"}""") with { Wait = TimeSpan.FromMinutes(5) })));
        Assert.Equal("no-match", thrown.Code);
        Assert.Equal(422, thrown.Status);

        // Too few matches is no-match as well.
        await Assert.ThrowsAsync<LeaseholdNoMatchException>(() => Bounded(client.AcquireAsync(
            AcquireOptions.FromPool("/lab", """{"os": "android"}""", count: 3) with { Ttl = TimeSpan.FromSeconds(30) })));
        Assert.Equal(0, (await Server.StatsAsync()).Sessions);
    }

    [Fact]
    public async Task GetLeaseAsync_of_an_unknown_id_is_null()
    {
        var client = CreateClient();

        Assert.Null(await Bounded(client.GetLeaseAsync(424242)));
    }

    [Fact]
    public async Task Releasing_or_renewing_with_the_wrong_token_or_an_unknown_id_is_typed()
    {
        var client = CreateClient();
        await using var lease = await Bounded(client.AcquireAsync(PathOptions("/tokens", 30)));
        var wrong = new string('0', 32);

        var badToken = await Assert.ThrowsAsync<LeaseholdInvalidTokenException>(() => Bounded(client.ReleaseAsync(lease.Id, wrong)));
        Assert.Equal("invalid-token", badToken.Code);
        Assert.Equal(403, badToken.Status);
        await Assert.ThrowsAsync<LeaseholdInvalidTokenException>(() => Bounded(client.RenewAsync(lease.Id, wrong)));
        var unknown = await Assert.ThrowsAsync<LeaseholdNotFoundException>(() => Bounded(client.ReleaseAsync(424242, lease.Token)));
        Assert.Equal(404, unknown.Status);

        // A refused release leaves the lease held.
        Assert.NotNull(await Bounded(client.GetLeaseAsync(lease.Id)));
        Assert.False(lease.LostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task An_invalid_argument_is_a_LeaseholdException_with_its_code()
    {
        var client = CreateClient();

        var thrown = await Assert.ThrowsAsync<LeaseholdException>(() => Bounded(client.AcquireAsync(
            AcquireOptions.ForPath("/sem") with { Shared = true, Limit = 3, Ttl = TimeSpan.FromSeconds(30) })));

        Assert.Equal("invalid-argument", thrown.Code);
        Assert.Equal(400, thrown.Status);
    }
}
