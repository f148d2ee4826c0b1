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
