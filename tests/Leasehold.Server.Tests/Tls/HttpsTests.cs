using System.Net;
using Leasehold.Server.Tls;
using System.Security.Cryptography.X509Certificates;

namespace Leasehold.Server.Tests.Tls;

/// <summary>The server over HTTPS with a certificate from PEM files: serving, the chain it sends, its refusals.</summary>
public sealed class HttpsTests : IDisposable
{
    private readonly TlsFiles _files = new();

    public void Dispose() => _files.Dispose();

    private Task<TestServer> StartAsync(string cert, string key, Func<HttpMessageHandler>? handler = null, params string[] more)
        => TestServer.StartAsync(["--urls", "https://127.0.0.1:0", TlsOptions.CertFlag, cert, TlsOptions.KeyFlag, key, .. more],
            handler: handler ?? (() => _files.Handler()));

    [Fact]
    public async Task The_API_and_Locker_answer_over_HTTPS_with_the_certificate_from_the_files()
    {
        var (cert, key, certificate) = _files.Server();
        await using var server = await StartAsync(cert, key);
        Assert.Equal("https", server.BaseAddress.Scheme);
        Assert.Equal(certificate.Thumbprint, await TlsProbe.ServerThumbprintAsync(server.BaseAddress));
        await new Api(server.Client).AssertServesAsync("/tls/api");
        // Locker shares the port, so it is served over the same TLS.
        using var locker = await server.Client.GetAsync(new Uri("/canhaz/tls/locker?id=me", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, locker.StatusCode);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_authority_is_refused_by_its_own_TLS()
    {
        var (cert, key, _) = _files.Server();
        await using var server = await StartAsync(cert, key);
        using var other = new TlsFiles("Some Other CA");
        using var stranger = new HttpClient(other.Handler()) { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => stranger.GetAsync(new Uri("/healthz", UriKind.Relative)));
        Assert.Equal(HttpRequestError.SecureConnectionError, failure.HttpRequestError);
    }

    [Fact]
    public async Task Intermediates_after_the_certificate_in_its_file_are_sent_so_a_client_trusting_only_the_root_connects()
    {
        var (root, intermediate) = TlsFiles.RootWithIntermediate();
        var now = DateTimeOffset.UtcNow;
        var leaf = CertificateMaker.Issue(intermediate, "chained", ["localhost"], [IPAddress.Loopback], client: false, now.AddMinutes(-5), now.AddDays(1));
        PemFiles.Write(leaf, _files.Directory, "chained", overwrite: false, chain: [intermediate]);
        var cert = PemFiles.CertificatePath(_files.Directory, "chained");

        await using var server = await StartAsync(cert, PemFiles.KeyPath(_files.Directory, "chained"), () => TlsFiles.Handler([root]));
        await new Api(server.Client).AssertServesAsync("/tls/chain");
    }

    [Fact]
    public async Task With_TLS_on_and_no_address_given_the_default_address_is_https()
    {
        var (cert, key, _) = _files.Server();
        await using var app = LeaseholdApp.Build([TlsOptions.CertFlag, cert, TlsOptions.KeyFlag, key, "--Leasehold:Durability=memory"]);
        Assert.Equal(TlsSetup.DefaultHttpsUrl, app.Configuration["urls"]);
        await using var plain = LeaseholdApp.Build(["--Leasehold:Durability=memory"]);
        Assert.Equal(LeaseholdApp.DefaultUrl, plain.Configuration["urls"]);
    }

    [Fact]
    public void Unusable_files_and_settings_stop_the_build_with_a_message_naming_them()
    {
        var (cert, key, _) = _files.Server();
        var (otherCert, otherKey, _) = _files.Server("other");
        var garbage = Path.Combine(_files.Directory, "garbage.pem");
        File.WriteAllText(garbage, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
        var clientOnly = _files.Issue("client-only", client: true);
        PemFiles.Write(clientOnly, _files.Directory, "client-only", overwrite: false);

        string Refusal(params string[] args)
            => Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build([.. args, "--Leasehold:Durability=memory", "--urls", "http://127.0.0.1:0"])).Message;

        Assert.Equal($"the key in {otherKey} does not belong to the certificate in {cert}", Refusal(TlsOptions.CertFlag, cert, TlsOptions.KeyFlag, otherKey));
        Assert.Equal($"the certificate file {Path.Combine(_files.Directory, "missing.crt")} does not exist",
            Refusal(TlsOptions.CertFlag, Path.Combine(_files.Directory, "missing.crt"), TlsOptions.KeyFlag, key));
        Assert.Equal($"the key file {cert} holds no PEM private key (PKCS#8, RSA or EC)", Refusal(TlsOptions.CertFlag, otherCert, TlsOptions.KeyFlag, cert));
        Assert.StartsWith($"the certificate file {garbage} holds a damaged certificate", Refusal(TlsOptions.CertFlag, garbage, TlsOptions.KeyFlag, key), StringComparison.Ordinal);
        Assert.Equal($"the certificate in {PemFiles.CertificatePath(_files.Directory, "client-only")} is not for servers: its extended key usage lacks serverAuth",
            Refusal(TlsOptions.CertFlag, PemFiles.CertificatePath(_files.Directory, "client-only"), TlsOptions.KeyFlag, PemFiles.KeyPath(_files.Directory, "client-only")));
        Assert.Equal("Leasehold:Tls:CertFile (--tls-cert) is set but Leasehold:Tls:KeyFile (--tls-key) is not: give both", Refusal(TlsOptions.CertFlag, cert));
        Assert.Equal("Leasehold:Tls:KeyFile (--tls-key) is set but Leasehold:Tls:CertFile (--tls-cert) is not: give both", Refusal(TlsOptions.KeyFlag, key));
        Assert.Equal("Leasehold:Tls:ClientCaFile needs TLS on: give --tls-cert FILE and --tls-key FILE too", Refusal("--Leasehold:Tls:ClientCaFile=" + _files.CaFile));
        Assert.Equal("https://127.0.0.1:0 needs a certificate: give --tls-cert FILE and --tls-key FILE (Leasehold:Tls:CertFile and :KeyFile)",
            Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(["--Leasehold:Durability=memory", "--urls", "https://127.0.0.1:0"])).Message);
    }

    [Fact]
    public async Task An_encrypted_key_is_refused_as_such()
    {
        var (cert, _, certificate) = _files.Server();
        var encrypted = Path.Combine(_files.Directory, "encrypted.key");
        using (var key = certificate.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(encrypted, key.ExportEncryptedPkcs8PrivateKeyPem("secret", new System.Security.Cryptography.PbeParameters(
                System.Security.Cryptography.PbeEncryptionAlgorithm.Aes256Cbc, System.Security.Cryptography.HashAlgorithmName.SHA256, 10_000)));
        }
        var ex = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build([TlsOptions.CertFlag, cert, TlsOptions.KeyFlag, encrypted, "--Leasehold:Durability=memory"]));
        Assert.Equal($"the key file {encrypted} is encrypted; the server needs it unencrypted (and readable by its user alone)", ex.Message);
    }
}
