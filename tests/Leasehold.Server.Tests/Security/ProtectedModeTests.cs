namespace Leasehold.Server.Tests.Security;

/// <summary>Protected mode: without authentication the server serves loopback only, unless told to run open.</summary>
public class ProtectedModeTests
{
    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://*:0")]
    [InlineData("http://[::]:0")]
    public void Every_address_without_authentication_is_refused_in_one_line(string url)
    {
        var ex = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(["--urls", url, "--Leasehold:Durability=memory"]));
        Assert.Contains("refusing to serve", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--open", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', LeaseholdApp.DescribeRefusal(ex));
    }

    [Fact]
    public void An_idserver_on_every_address_without_authentication_is_refused()
    {
        var ex = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(
            ["--Leasehold:Durability=memory", "--Leasehold:Pools:0:Path=/ids", "--Leasehold:Pools:0:Ids=a", "--Leasehold:IdServer:Pool=/ids", "--Leasehold:IdServer:Host=0.0.0.0"]));
        Assert.Contains("idserver", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://localhost:0")]
    [InlineData("http://[::1]:0")]
    public async Task Loopback_is_served_open(string url)
    {
        await using var app = LeaseholdApp.Build(["--urls", url, "--Leasehold:Durability=memory"]);
        Assert.NotNull(app);
    }

    [Fact]
    public async Task Open_on_purpose_or_with_a_key_every_address_is_served()
    {
        // Built, not started: a test listens on loopback only.
        await using var open = LeaseholdApp.Build(["--urls", "http://0.0.0.0:0", "--open", "--Leasehold:Durability=memory"]);
        Assert.NotNull(open);

        var key = Leasehold.Server.Security.ApiKeys.Create("k");
        await using var secured = LeaseholdApp.Build(["--urls", "http://0.0.0.0:0", "--Leasehold:Durability=memory",
            $"--Leasehold:Security:ApiKeys:k:Hash={Leasehold.Server.Security.ApiKeys.Hash(key)}", "--Leasehold:Security:ApiKeys:k:Principal=p"]);
        Assert.NotNull(secured);
    }

    [Fact]
    public void A_key_pasted_where_its_hash_belongs_is_refused_at_start_up()
    {
        var key = Leasehold.Server.Security.ApiKeys.Create("k");
        var ex = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(["--Leasehold:Durability=memory",
            $"--Leasehold:Security:ApiKeys:k:Hash={key}", "--Leasehold:Security:ApiKeys:k:Principal=p"]));
        Assert.Contains("Leasehold:Security:ApiKeys:k:Hash", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, ex.Message, StringComparison.Ordinal);
    }
}
