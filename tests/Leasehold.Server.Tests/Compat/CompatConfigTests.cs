using System.Net;
using System.Text;

namespace Leasehold.Server.Tests.Compat;

/// <summary>The settings of the front-ends: Leasehold:Locker:Enabled, Leasehold:Lockd:Enabled, Leasehold:Lockd:Prefix.</summary>
public sealed class CompatConfigTests
{
    private const string LockCall =
        "<?xml version='1.0'?><methodCall><methodName>lock</methodName><params>"
        + "<param><value><string>printer</string></value></param><param><value><string>alice</string></value></param>"
        + "</params></methodCall>";

    private static async Task<(HttpStatusCode Status, string Body)> PostXmlAsync(TestServer server, string route)
    {
        using var content = new StringContent(LockCall, Encoding.UTF8, "text/xml");
        using var response = await server.Client.PostAsync(new Uri(route, UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpStatusCode> GetStatusAsync(TestServer server, string url)
    {
        using var response = await server.Client.GetAsync(new Uri(url, UriKind.Relative));
        return response.StatusCode;
    }

    [Fact]
    public async Task BothAreOnByDefault()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await GetStatusAsync(server, "/dohaz/x"));
        var (status, body) = await PostXmlAsync(server, "/RPC2");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<nil/>", body, StringComparison.Ordinal);
        Assert.Contains("\"owner\":\"alice\"", await server.Client.GetStringAsync(new Uri("/v1/resources/lockd/printer", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LockerCanBeSwitchedOff()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Locker:Enabled=false"]);
        foreach (var route in new[] { "/canhaz/x", "/nowant/x", "/dohaz/x", "/canhaz" })
        {
            Assert.Equal(HttpStatusCode.NotFound, await GetStatusAsync(server, route));
        }
        Assert.Equal(HttpStatusCode.OK, (await PostXmlAsync(server, "/RPC2")).Status);
    }

    [Fact]
    public async Task LockdCanBeSwitchedOff()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Lockd:Enabled=false"]);
        Assert.Equal(HttpStatusCode.NotFound, (await PostXmlAsync(server, "/RPC2")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await PostXmlAsync(server, "/")).Status);
        Assert.Equal(HttpStatusCode.OK, await GetStatusAsync(server, "/dohaz/x"));
    }

    [Fact]
    public async Task LockdPrefixPlacesTheNames()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Lockd:Prefix=/locks/xmlrpc"]);
        Assert.Contains("<nil/>", (await PostXmlAsync(server, "/")).Body, StringComparison.Ordinal);
        var resource = await server.Client.GetStringAsync(new Uri("/v1/resources/locks/xmlrpc/printer", UriKind.Relative));
        Assert.Contains("\"owner\":\"alice\"", resource, StringComparison.Ordinal);
        // The Locker front-end sees the same lock.
        Assert.Equal("{\"lockedBy\": \"alice\"}", await server.Client.GetStringAsync(new Uri("/dohaz/locks", UriKind.Relative)));
    }

    [Fact]
    public void AnInvalidPrefixStopsStartUp()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(
                ["--urls", "http://127.0.0.1:0", "--data-dir", dataDir, "--Leasehold:Durability=memory", "--Leasehold:Lockd:Prefix=lockd"]));
            Assert.Contains("Leasehold:Lockd:Prefix", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }
}
