using System.Security.Cryptography.X509Certificates;
using Leasehold.Server;
using Microsoft.AspNetCore.Builder;

namespace Leasehold.Cli.Tests;

/// <summary>
/// The walk-through of docs/tls.md with the built tool: `certs ca` and `certs issue` make the files, the real
/// server serves HTTPS with them, and `lock` and `status` reach it with --ca-file (or LEASEHOLD_CA_FILE) and a
/// client certificate the server names the caller by.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private WebApplication? _app;

    private string Ca => Path.Combine(_dir.Path, "ca");

    private Uri Server => new(_app!.Urls.Single().Replace("127.0.0.1", "localhost", StringComparison.Ordinal) + "/");

    public async Task InitializeAsync()
    {
        await Expect(0, "certs", "ca", "--out", Ca, "--name", "Test CA");
        await Expect(0, "certs", "issue", "--ca", Ca, "--name", "localhost", "--ip", "127.0.0.1", "--out", Path.Combine(_dir.Path, "server"));
        _app = LeaseholdApp.Build(
        [
            "--urls", "https://127.0.0.1:0", "--Leasehold:Durability=memory", "--Logging:LogLevel:Default=Warning",
            "--tls-cert", Path.Combine(_dir.Path, "server", "localhost.crt"), "--tls-key", Path.Combine(_dir.Path, "server", "localhost.key"),
            "--Leasehold:Tls:ClientCaFile=" + Path.Combine(Ca, "ca.crt"),
            // Client authorities turn security on: everyone, named by a certificate or not, may lock and read here.
            "--Leasehold:Security:Rules:0:Who:0=*", "--Leasehold:Security:Rules:0:Who:1=anonymous",
            "--Leasehold:Security:Rules:0:Rights:0=lock", "--Leasehold:Security:Rules:0:Rights:1=read",
        ]);
        using var cts = new CancellationTokenSource(Tool.Timeout);
        await _app.StartAsync(cts.Token);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        _dir.Dispose();
    }

    private static async Task<ToolResult> Expect(int exitCode, params string[] args)
    {
        var result = await Tool.RunWithoutServerAsync(args);
        Assert.True(result.ExitCode == exitCode, result.ToString());
        return result;
    }

    [Fact]
    public async Task The_made_files_are_PEM_with_keys_for_their_owner_alone()
    {
        var authority = X509Certificate2.CreateFromPemFile(Path.Combine(Ca, "ca.crt"), Path.Combine(Ca, "ca.key"));
        Assert.Equal("CN=Test CA", authority.Subject);
        Assert.True(authority.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        var server = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_dir.Path, "server", "localhost.crt"));
        Assert.Equal(authority.Subject, server.Issuer);
        Assert.Contains("localhost", server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Ca, "ca.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir.Path, "server", "localhost.key")));
        }

        // An authority is not overwritten by mistake; on purpose it is.
        var again = await Expect(ExitCodes.Error, "certs", "ca", "--out", Ca);
        Assert.Contains("exists already", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(authority.Thumbprint, X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Ca, "ca.crt")).Thumbprint);
        var missing = await Expect(ExitCodes.Error, "certs", "issue", "--ca", Path.Combine(_dir.Path, "nowhere"), "--name", "x", "--out", _dir.Path);
        Assert.Contains("has no ca.crt and ca.key", missing.Stderr, StringComparison.Ordinal);
        await Expect(ExitCodes.Usage, "certs", "issue", "--ca", Ca, "--name", "../escape", "--out", _dir.Path);
    }

    [Fact]
    public async Task Lock_and_status_over_HTTPS_with_the_authority_and_a_client_certificate()
    {
        await Expect(0, "certs", "issue", "--ca", Ca, "--name", "alice", "--client", "--out", Path.Combine(_dir.Path, "clients"));
        string[] tls = ["--ca-file", Path.Combine(Ca, "ca.crt"), "--client-cert", Path.Combine(_dir.Path, "clients", "alice.crt"), "--client-key", Path.Combine(_dir.Path, "clients", "alice.key")];

        var locked = await Tool.RunAsync(Server, ["lock", "--path", "/tls/job", "--ttl", "30", "--json", .. tls]);
        Assert.True(locked.ExitCode == 0, locked.ToString());
        // The server records the principal the certificate names on the lease.
        Assert.Equal("alice", System.Text.Json.JsonDocument.Parse(locked.Stdout).RootElement.GetProperty("principal").GetString());

        // The same from the environment, as a CI job would set it.
        using var status = Tool.Start(["status", "/tls/job"], Server, new Dictionary<string, string> { ["LEASEHOLD_CA_FILE"] = Path.Combine(Ca, "ca.crt") });
        var shown = await status.WaitAsync();
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("holders:", shown.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("holders: none", shown.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_authority_status_fails_at_once_with_exit_69_and_the_TLS_reason()
    {
        var result = await Tool.RunAsync(Server, "status", "/tls/job");
        Assert.True(result.ExitCode == ExitCodes.Unavailable, result.ToString());
        Assert.Contains("TLS handshake failed: The remote certificate is invalid", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--ca-file", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_TLS_file_is_a_usage_error_naming_the_flag()
    {
        var result = await Tool.RunAsync(Server, "status", "/tls/job", "--ca-file", Path.Combine(_dir.Path, "missing.crt"));
        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.StartsWith($"leasehold: --ca-file: cannot read certificates from {Path.Combine(_dir.Path, "missing.crt")}", result.Stderr, StringComparison.Ordinal);
    }
}
