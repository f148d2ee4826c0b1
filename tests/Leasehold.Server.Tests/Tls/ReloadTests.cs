using Leasehold.Server.Tls;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Tls;

/// <summary>Replacing the certificate files changes what new connections get, with no restart; bad files change nothing.</summary>
public sealed class ReloadTests : IDisposable
{
    private readonly TlsFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task New_files_are_served_to_new_connections_and_a_garbage_file_leaves_the_current_certificate()
    {
        var (cert, key, first) = _files.Server();
        await using var server = await TestServer.StartAsync(["--urls", "https://127.0.0.1:0", TlsOptions.CertFlag, cert, TlsOptions.KeyFlag, key],
            handler: () => _files.Handler());
        var api = new Api(server.Client);
        Assert.Equal(first.Thumbprint, await TlsProbe.ServerThumbprintAsync(server.BaseAddress));

        // Rotation: the same file names, new contents (written whole, as `leasehold certs issue` does).
        var (_, _, second) = _files.Server(overwrite: true);
        await TlsProbe.WaitForAsync(server.BaseAddress, second.Thumbprint);
        await new Api(server.CreateClient()).AssertServesAsync("/tls/rotated");

        // Garbage in place of the certificate: the reload fails, the certificate in use stays.
        var holder = server.App.Services.GetRequiredService<ServerCertificate>();
        await File.WriteAllTextAsync(cert, "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n");
        await WaitUntilAsync(() => holder.LastError is not null, "the server to try the garbage file");
        Assert.StartsWith($"the certificate file {cert} holds a damaged certificate", holder.LastError, StringComparison.Ordinal);
        Assert.Equal(second.Thumbprint, await TlsProbe.ServerThumbprintAsync(server.BaseAddress));
        await new Api(server.CreateClient()).AssertServesAsync("/tls/kept");

        // A key that does not match is refused the same way; then good files are taken again.
        var (_, otherKey, _) = _files.Server("other");
        File.Copy(otherKey, key, overwrite: true);
        var (_, _, third) = _files.Server(overwrite: true);
        await TlsProbe.WaitForAsync(server.BaseAddress, third.Thumbprint);
        Assert.Null(holder.LastError);
        await api.AssertServesAsync("/tls/third");
    }

    [Fact]
    public async Task A_swap_of_a_directory_link_as_mounted_secrets_do_is_seen()
    {
        // The layout of a secret mounted into a container: server.crt -> ..data/server.crt, ..data -> v1;
        // an update writes v2 and renames a new ..data link over the old one. server.crt never changes.
        var root = Path.Combine(_files.Directory, "mounted");
        var v1 = Path.Combine(root, "v1");
        var v2 = Path.Combine(root, "v2");
        Directory.CreateDirectory(v1);
        Directory.CreateDirectory(v2);
        var first = _files.Issue("server", client: false);
        PemFiles.Write(first, v1, "server", overwrite: false);
        File.CreateSymbolicLink(Path.Combine(root, "..data"), "v1");
        File.CreateSymbolicLink(Path.Combine(root, "server.crt"), Path.Combine("..data", "server.crt"));
        File.CreateSymbolicLink(Path.Combine(root, "server.key"), Path.Combine("..data", "server.key"));
        await using var server = await TestServer.StartAsync(
            ["--urls", "https://127.0.0.1:0", TlsOptions.CertFlag, Path.Combine(root, "server.crt"), TlsOptions.KeyFlag, Path.Combine(root, "server.key")],
            handler: () => _files.Handler());
        Assert.Equal(first.Thumbprint, await TlsProbe.ServerThumbprintAsync(server.BaseAddress));

        var second = _files.Issue("server", client: false);
        PemFiles.Write(second, v2, "server", overwrite: false);
        File.CreateSymbolicLink(Path.Combine(root, "..data_tmp"), "v2");
        // rename(2) of the link over the old one, as the mounting agent does (File.Move follows the link to a directory).
        using (var rename = System.Diagnostics.Process.Start("mv", ["-Tf", Path.Combine(root, "..data_tmp"), Path.Combine(root, "..data")]))
        {
            using var cts = new CancellationTokenSource(TestServer.Timeout);
            await rename.WaitForExitAsync(cts.Token);
            Assert.Equal(0, rename.ExitCode);
        }
        await TlsProbe.WaitForAsync(server.BaseAddress, second.Thumbprint);
    }

    [Fact]
    public void A_check_without_a_change_reads_nothing_and_a_mismatched_pair_keeps_the_current_certificate()
    {
        var (cert, key, first) = _files.Server();
        var holder = new ServerCertificate(cert, key);
        Assert.Equal(ReloadOutcome.Unchanged, holder.ReloadIfChanged());

        var (_, otherKey, _) = _files.Server("other");
        File.Copy(otherKey, key, overwrite: true);
        Assert.Equal(ReloadOutcome.Failed, holder.ReloadIfChanged());
        Assert.Equal($"the key in {key} does not belong to the certificate in {cert}", holder.LastError);
        Assert.Equal(first.Thumbprint, holder.Current.Certificate.Thumbprint);
        // The same bad files are not tried (and warned about) again until they change.
        Assert.Equal(ReloadOutcome.Unchanged, holder.ReloadIfChanged());
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited {TestServer.Timeout.TotalSeconds} s for {what}");
            await Task.Delay(25);
        }
    }
}
