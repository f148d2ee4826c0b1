using System.Net;
using System.Security.Cryptography.X509Certificates;
using Leasehold.Server.Tls;

namespace Leasehold.Server.Tests.Tls;

/// <summary>
/// With <c>Leasehold:Tls:ClientCaFile</c>, a client certificate from that authority names the caller after its
/// CN; any other certificate (another authority, expired, self-signed, for servers only) is refused with 401
/// <c>invalid-credentials</c>, as any credentials that do not hold are (security is on with client authorities).
/// </summary>
public sealed class ClientCertificateTests : IDisposable
{
    private readonly TlsFiles _files = new();

    public void Dispose() => _files.Dispose();

    private async Task<TestServer> StartAsync()
    {
        var (cert, key, _) = _files.Server();
        return await TestServer.StartAsync(
            ["--urls", "https://127.0.0.1:0", TlsOptions.CertFlag, cert, TlsOptions.KeyFlag, key, "--Leasehold:Tls:ClientCaFile=" + _files.CaFile,
                // Client authorities turn security on: let callers without a certificate in, to show they stay anonymous.
                "--Leasehold:Security:Rules:0:Who:0=anonymous", "--Leasehold:Security:Rules:0:Rights:0=lock", "--Leasehold:Security:Rules:0:Rights:1=read"],
            handler: () => _files.Handler());
    }

    private async Task<(string? Name, string? Type)> WhoAmIAsync(TestServer server, X509Certificate2? certificate)
    {
        using var http = new HttpClient(_files.Handler(certificate)) { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };
        using var response = await http.GetAsync(new Uri("/v1/whoami", UriKind.Relative));
        var body = await HttpAssert.ReadJsonAsync(response, HttpStatusCode.OK);
        return (body.GetProperty("name").GetString(), body.GetProperty("authenticationType").GetString());
    }

    private async Task AssertRefusedAsync(TestServer server, X509Certificate2 certificate)
    {
        using var http = new HttpClient(_files.Handler(certificate)) { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };
        using var response = await http.GetAsync(new Uri("/v1/whoami", UriKind.Relative));
        await HttpAssert.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "invalid-credentials");
    }

    [Fact]
    public async Task A_certificate_from_the_configured_authority_names_the_caller_by_its_CN()
    {
        await using var server = await StartAsync();
        Assert.Equal(("ci-runner-7", "Certificate"), await WhoAmIAsync(server, _files.Client("ci-runner-7")));
        // Without a certificate the caller is anonymous, and still served.
        Assert.Equal((null, null), await WhoAmIAsync(server, null));
        await new Api(server.Client).AssertServesAsync("/tls/anonymous");
    }

    [Fact]
    public async Task Certificates_that_prove_nothing_are_refused()
    {
        await using var server = await StartAsync();
        using var other = new TlsFiles("Some Other CA");
        await AssertRefusedAsync(server, other.Client("ci-runner-7"));

        var now = DateTimeOffset.UtcNow;
        await AssertRefusedAsync(server, _files.Client("expired", now.AddDays(-10), now.AddDays(-1)));

        // A certificate for servers is not one for clients, even from the right authority.
        await AssertRefusedAsync(server, _files.Issue("a-server", client: false));

        // Self-signed with the right name: no authority vouches for it.
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new CertificateRequest("CN=ci-runner-7", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")], false));
        await AssertRefusedAsync(server, request.CreateSelfSigned(now.AddHours(-1), now.AddDays(1)));

        // The server keeps serving the good ones.
        Assert.Equal(("after", "Certificate"), await WhoAmIAsync(server, _files.Client("after")));
    }

    [Fact]
    public async Task Without_client_authorities_a_client_certificate_is_not_asked_for_and_names_no_one()
    {
        var (cert, key, _) = _files.Server();
        await using var server = await TestServer.StartAsync(["--urls", "https://127.0.0.1:0", TlsOptions.CertFlag, cert, TlsOptions.KeyFlag, key],
            handler: () => _files.Handler());
        Assert.Equal((null, null), await WhoAmIAsync(server, _files.Client("ci-runner-7")));
    }
}
