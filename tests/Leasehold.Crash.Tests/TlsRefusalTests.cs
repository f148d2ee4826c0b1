using System.Net;
using Leasehold.Server.Tls;

namespace Leasehold.Crash.Tests;

/// <summary>
/// The built server, as a process, refuses to start over TLS files or settings it cannot use: one line on
/// standard error saying which, exit code 2, never an abort with a stack trace.
/// </summary>
public sealed class TlsRefusalTests : IDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly string _root = Directory.CreateTempSubdirectory("leasehold-tls-refusal-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<string> RefusalAsync(params string[] args)
    {
        using var server = new ServerProcess(Path.Combine(_root, "data"), ["--Leasehold:Durability=memory", .. args]);
        var code = await server.StartExpectingRefusalAsync(StartDeadline);
        Assert.True(code == 2, $"exit code {code}\n{server.OutputTail}");
        var lines = server.OutputTail.Split(Environment.NewLine).Where(l => l.Length > 0 && !l.StartsWith("[exit code", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, "not one line:\n" + server.OutputTail);
        Assert.StartsWith("leasehold: cannot start: ", lines[0], StringComparison.Ordinal);
        return lines[0]["leasehold: cannot start: ".Length..];
    }

    private (string Cert, string Key) Issue(string name)
    {
        var now = DateTimeOffset.UtcNow;
        using var authority = CertificateMaker.MakeAuthority("Refusal Test CA", now);
        using var certificate = CertificateMaker.Issue(authority, name, ["localhost"], [IPAddress.Loopback], client: false, now, now.AddDays(1));
        PemFiles.Write(certificate, _root, name, overwrite: false);
        return (PemFiles.CertificatePath(_root, name), PemFiles.KeyPath(_root, name));
    }

    [Fact]
    public async Task A_missing_certificate_file_is_one_line()
    {
        var (_, key) = Issue("server");
        var missing = Path.Combine(_root, "nowhere.crt");
        Assert.Equal($"the certificate file {missing} does not exist", await RefusalAsync(TlsOptions.CertFlag, missing, TlsOptions.KeyFlag, key));
    }

    [Fact]
    public async Task A_key_that_does_not_match_the_certificate_is_one_line()
    {
        var (cert, _) = Issue("server");
        var (_, otherKey) = Issue("other");
        Assert.Equal($"the key in {otherKey} does not belong to the certificate in {cert}", await RefusalAsync(TlsOptions.CertFlag, cert, TlsOptions.KeyFlag, otherKey));
    }

    [Fact]
    public async Task An_unreadable_key_file_is_one_line()
    {
        var (cert, key) = Issue("server");
        await File.WriteAllTextAsync(key, "this is not a key\n");
        Assert.Equal($"the key file {key} holds no PEM private key (PKCS#8, RSA or EC)", await RefusalAsync(TlsOptions.CertFlag, cert, TlsOptions.KeyFlag, key));
    }

    [Fact]
    public async Task A_certificate_without_its_key_is_one_line()
    {
        var (cert, _) = Issue("server");
        Assert.Equal("Leasehold:Tls:CertFile (--tls-cert) is set but Leasehold:Tls:KeyFile (--tls-key) is not: give both", await RefusalAsync(TlsOptions.CertFlag, cert));
    }

    [Fact]
    public async Task An_https_address_without_a_certificate_is_one_line_not_an_abort()
    {
        var port = ServerProcess.FreePort();
        Assert.Equal($"https://127.0.0.1:{port} needs a certificate: give --tls-cert FILE and --tls-key FILE (Leasehold:Tls:CertFile and :KeyFile)",
            await RefusalAsync("--urls", $"https://127.0.0.1:{port}"));
    }
}
