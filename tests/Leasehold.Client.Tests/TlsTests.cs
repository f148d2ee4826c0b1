using System.Diagnostics;
using System.Net;
using Leasehold.Server;
using Leasehold.Server.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Client.Tests;

/// <summary>
/// The client against the real server over HTTPS with a private authority: trusting it with
/// <see cref="LeaseholdClientOptions.CaFile"/>, failing clearly without it, and presenting a client
/// certificate that the server names the caller by.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-client-tls-").FullName;
    private WebApplication _app = null!;
    private X509Authority _authority = null!;

    private Uri Server => new(_app.Urls.Single());

    private string CaFile => PemFiles.CertificatePath(_dir, "ca");

    public async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        _authority = new X509Authority(CertificateMaker.MakeAuthority("Client Test CA", now));
        PemFiles.Write(_authority.Certificate, _dir, "ca", overwrite: false);
        using var server = CertificateMaker.Issue(_authority.Certificate, "server", ["localhost"], [IPAddress.Loopback], client: false, now, now.AddDays(1));
        PemFiles.Write(server, _dir, "server", overwrite: false);
        _app = LeaseholdApp.Build(
        [
            "--urls", "https://127.0.0.1:0", "--Leasehold:Durability=memory", "--Logging:LogLevel:Default=Warning",
            TlsOptions.CertFlag, PemFiles.CertificatePath(_dir, "server"), TlsOptions.KeyFlag, PemFiles.KeyPath(_dir, "server"),
            "--Leasehold:Tls:ClientCaFile=" + CaFile,
            // Client authorities turn security on: everyone, named by a certificate or not, may lock and read here.
            "--Leasehold:Security:Rules:0:Who:0=*", "--Leasehold:Security:Rules:0:Who:1=anonymous",
            "--Leasehold:Security:Rules:0:Rights:0=lock", "--Leasehold:Security:Rules:0:Rights:1=read",
        ]);
        using var cts = new CancellationTokenSource(Bound);
        await _app.StartAsync(cts.Token);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _authority.Certificate.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task With_the_authority_in_CaFile_the_client_acquires_and_releases_over_HTTPS()
    {
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = Server, CaFile = CaFile });
        await using (var lease = await client.AcquireAsync(AcquireOptions.ForPath("/tls/job")).WaitAsync(Bound))
        {
            Assert.Equal(lease.Id, Assert.Single((await client.GetResourceAsync("/tls/job").WaitAsync(Bound)).Holders).Id);
        }
        Assert.Empty((await client.GetResourceAsync("/tls/job").WaitAsync(Bound)).Holders);
    }

    [Fact]
    public async Task Without_the_authority_the_call_fails_at_once_saying_the_certificate_is_not_trusted()
    {
        using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = Server, Retries = 3 });
        var clock = Stopwatch.StartNew();
        var thrown = await Assert.ThrowsAsync<LeaseholdUnavailableException>(() => client.GetResourceAsync("/tls/job").WaitAsync(Bound));
        Assert.Contains("TLS handshake failed", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("The remote certificate is invalid", thrown.Message, StringComparison.Ordinal);
        // No retries with backoff (100 + 200 + 400 ms): a certificate the client distrusts stays distrusted.
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(700), $"took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_client_certificate_from_files_names_the_caller_to_the_server()
    {
        var now = DateTimeOffset.UtcNow;
        using (var worker = CertificateMaker.Issue(_authority.Certificate, "worker-1", [], [], client: true, now, now.AddDays(1)))
        {
            PemFiles.Write(worker, _dir, "worker-1", overwrite: false);
        }
        using var client = new LeaseholdClient(new LeaseholdClientOptions
        {
            Server = Server,
            CaFile = CaFile,
            ClientCertificateFile = PemFiles.CertificatePath(_dir, "worker-1"),
            ClientCertificateKeyFile = PemFiles.KeyPath(_dir, "worker-1"),
        });
        // The server records the principal the certificate names on the lease.
        await using var lease = await client.AcquireAsync(AcquireOptions.ForPath("/tls/named") with { Ttl = TimeSpan.FromSeconds(30) }).WaitAsync(Bound);
        Assert.Equal("worker-1", lease.Lease.Principal);
    }

    [Fact]
    public async Task A_client_certificate_object_from_dependency_injection_names_the_caller_too()
    {
        var now = DateTimeOffset.UtcNow;
        using var worker = CertificateMaker.Issue(_authority.Certificate, "worker-di", [], [], client: true, now, now.AddDays(1));
        var services = new ServiceCollection();
        services.AddLeaseholdClient(o =>
        {
            o.Server = Server;
            o.CaFile = CaFile;
            o.ClientCertificate = worker;
        });
        await using var provider = services.BuildServiceProvider();
        await using var lease = await provider.GetRequiredService<LeaseholdClient>()
            .AcquireAsync(AcquireOptions.ForPath("/tls/di") with { Ttl = TimeSpan.FromSeconds(30) }).WaitAsync(Bound);
        Assert.Equal("worker-di", lease.Lease.Principal);
    }

    [Fact]
    public void Unreadable_files_are_refused_when_the_client_is_made_naming_the_setting_and_file()
    {
        var missing = Path.Combine(_dir, "missing.crt");
        var ca = Assert.Throws<InvalidOperationException>(() => new LeaseholdClient(new LeaseholdClientOptions { Server = Server, CaFile = missing }));
        Assert.StartsWith($"CaFile: cannot read certificates from {missing}", ca.Message, StringComparison.Ordinal);

        // The authority's certificate has no key beside it in its own file.
        var noKey = Assert.Throws<InvalidOperationException>(() => new LeaseholdClient(new LeaseholdClientOptions { Server = Server, ClientCertificateFile = CaFile }));
        Assert.StartsWith($"ClientCertificateKeyFile: no unencrypted private key of the certificate in {CaFile} could be read from {CaFile}", noKey.Message, StringComparison.Ordinal);
    }

    private sealed record X509Authority(System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate);
}
