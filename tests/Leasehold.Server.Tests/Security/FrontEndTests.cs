using System.Net;
using System.Net.Sockets;
using System.Text;
using Leasehold.Server.Compat.IdServer;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Security;

/// <summary>
/// With security on, Locker, gocept.lockd and idserver (whose clients send no credentials) run as the principal
/// their settings name, under that principal's rules, or are off.
/// </summary>
public class FrontEndTests
{
    private static string LockCall(string resource) =>
        "<?xml version='1.0'?><methodCall><methodName>lock</methodName><params>"
        + $"<param><value><string>{resource}</string></value></param><param><value><string>alice</string></value></param>"
        + "</params></methodCall>";

    [Fact]
    public async Task Without_a_principal_Locker_and_lockd_are_off()
    {
        await using var server = await SecuredServer.StartAsync();
        using var canhaz = await server.SendAsync("root", HttpMethod.Get, "/canhaz/ci/x");
        Assert.Equal(HttpStatusCode.NotFound, canhaz.StatusCode);
        using var content = new StringContent(LockCall("printer"), Encoding.UTF8, "text/xml");
        using var lockd = await server.Server.Client.PostAsync(new Uri("/RPC2", UriKind.Relative), content);
        Assert.NotEqual(HttpStatusCode.OK, lockd.StatusCode);
        Assert.Empty(await server.HoldersAsync("/lockd/printer"));
    }

    [Fact]
    public async Task Locker_runs_as_its_principal_under_that_principal_rules()
    {
        await using var server = await SecuredServer.StartAsync(null, "--Leasehold:Locker:Principal=ci");
        using (var granted = await server.SendAsync(null, HttpMethod.Get, "/canhaz/ci/x?id=job-1"))
        {
            Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
            Assert.Contains("token", await granted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Single(await server.HoldersAsync("/ci/x"));
        using (var refused = await server.SendAsync(null, HttpMethod.Get, "/canhaz/lab/x?id=job-1"))
        {
            await HttpAssert.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");
        }
        Assert.Empty(await server.HoldersAsync("/lab/x"));
        // nowant of a lease taken through /v1 by another principal: the token is not enough.
        using (var other = await server.SendAsync("root", HttpMethod.Post, "/v1/leases", """{"path": "/ci/y"}"""))
        {
            var lease = await HttpAssert.ReadJsonAsync(other, HttpStatusCode.Created);
            var token = lease.GetProperty("token").GetString()!;
            var guid = $"{token[..8]}-{token[8..12]}-{token[12..16]}-{token[16..20]}-{token[20..]}";
            using var nowant = await server.SendAsync(null, HttpMethod.Get, $"/nowant/ci/y?token={guid}");
            await HttpAssert.AssertProblemAsync(nowant, HttpStatusCode.Forbidden, "forbidden");
            Assert.Single(await server.HoldersAsync("/ci/y"));
        }
        // A request that authenticates acts as itself: lab may lock under /lab.
        using var asLab = await server.SendAsync("lab", HttpMethod.Get, "/canhaz/lab/x?id=job-2");
        Assert.Equal(HttpStatusCode.OK, asLab.StatusCode);
        Assert.Single(await server.HoldersAsync("/lab/x"));
    }

    [Fact]
    public async Task Lockd_answers_a_fault_when_its_principal_may_not_lock_under_its_prefix()
    {
        await using var refusing = await SecuredServer.StartAsync(null, "--Leasehold:Lockd:Principal=ci");
        using (var content = new StringContent(LockCall("printer"), Encoding.UTF8, "text/xml"))
        using (var response = await refusing.Server.Client.PostAsync(new Uri("/RPC2", UriKind.Relative), content))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Contains("<fault>", body, StringComparison.Ordinal);
            Assert.Contains("forbidden", body, StringComparison.Ordinal);
        }
        Assert.Empty(await refusing.HoldersAsync("/lockd/printer"));

        await using var allowing = await SecuredServer.StartAsync(null, "--Leasehold:Lockd:Principal=ci", "--Leasehold:Lockd:Prefix=/ci/lockd");
        using (var content = new StringContent(LockCall("printer"), Encoding.UTF8, "text/xml"))
        using (var response = await allowing.Server.Client.PostAsync(new Uri("/RPC2", UriKind.Relative), content))
        {
            Assert.DoesNotContain("<fault>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Single(await allowing.HoldersAsync("/ci/lockd/printer"));
    }

    [Fact]
    public async Task Idserver_runs_as_its_principal_or_is_off()
    {
        string[] pool = ["--Leasehold:Pools:0:Path=/ci/ids", "--Leasehold:Pools:0:Ids=a,b", "--Leasehold:IdServer:Pool=/ci/ids", "--Leasehold:IdServer:Port=0"];
        await using (var off = await SecuredServer.StartAsync(null, pool))
        {
            Assert.Null(off.Server.App.Services.GetRequiredService<IdServerEndpoints>().Udp);
        }
        await using (var refused = await SecuredServer.StartAsync(null, [.. pool, "--Leasehold:IdServer:Principal=lab"]))
        {
            var reply = await AskAsync(refused, "job-1");
            Assert.Contains("forbidden", reply, StringComparison.Ordinal);
            Assert.Empty(await refused.HoldersAsync("/ci/ids/a"));
        }
        await using var served = await SecuredServer.StartAsync(null, [.. pool, "--Leasehold:IdServer:Principal=ci"]);
        Assert.Equal("""{"error": 0, "value": "a"}""", await AskAsync(served, "job-1"));
        Assert.Single(await served.HoldersAsync("/ci/ids/a"));
    }

    private static async Task<string> AskAsync(SecuredServer server, string owner)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, server.Server.App.Services.GetRequiredService<IdServerEndpoints>().Udp!.Port);
        using var client = new UdpClient(AddressFamily.InterNetwork);
        var request = Encoding.ASCII.GetBytes($$"""{"action": "get", "owner": "{{owner}}", "expire": 30}""");
        var deadline = DateTime.UtcNow + SecuredServer.Timeout;
        while (DateTime.UtcNow < deadline)
        {
            // UDP: a lost datagram is sent again (bounded).
            await client.SendAsync(request, endpoint);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                return Encoding.ASCII.GetString((await client.ReceiveAsync(wait.Token)).Buffer);
            }
            catch (OperationCanceledException)
            {
            }
        }
        throw new TimeoutException("idserver did not answer");
    }
}
