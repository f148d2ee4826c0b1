using System.Net;
using System.Text;

namespace Leasehold.Cli.Tests.Lockable;

/// <summary>
/// <c>--resources</c> as some other http(s) resource list (py-lockable's HTTP provider): the list is fetched,
/// checked, and allocated here with lock files, as with a file.
/// </summary>
public sealed class LockableListUrlTests
{
    [Fact]
    public async Task A_foreign_list_is_fetched_and_locked_locally()
    {
        using var dir = new TempDir();
        await using var list = ListServer.Start(_ => (200, LockableFiles.Mixed));

        var result = await Tool.RunWithoutServerAsync("run", "--resources", list.Url + "resources.json", "--lock-folder", dir.Path, "--requirements", "os=ios", "--", "echo \"$ID\"");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("ios\n", result.Stdout);
        Assert.True(File.Exists(dir.File("ios.lock")));
    }

    [Fact]
    public async Task A_busy_answer_is_retried_and_a_missing_list_is_exit_1()
    {
        using var dir = new TempDir();
        var calls = 0;
        await using var flaky = ListServer.Start(_ => Interlocked.Increment(ref calls) == 1 ? (503, "") : (200, LockableFiles.Mixed));
        await using var missing = ListServer.Start(_ => (404, "no"));

        var retried = await Tool.RunWithoutServerAsync("run", "--resources", flaky.Url + "r.json", "--lock-folder", dir.Path, "--", "echo \"$ID\"");
        var notFound = await Tool.RunWithoutServerAsync("run", "--resources", missing.Url + "r.json", "--lock-folder", dir.Path, "--", "echo ran");

        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.Equal("on\n", retried.Stdout);
        Assert.Equal(2, calls);
        Assert.True(notFound.ExitCode == 1, notFound.ToString());
        Assert.Contains("404", notFound.Stderr, StringComparison.Ordinal);
        Assert.Empty(notFound.Stdout);
    }

    /// <summary>A loopback HTTP server answering every request with what <c>answer</c> gives.</summary>
    private sealed class ListServer : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Task _loop;

        private ListServer(HttpListener listener, Func<HttpListenerRequest, (int Status, string Body)> answer)
        {
            _listener = listener;
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                    {
                        return;
                    }
                    var (status, body) = answer(context.Request);
                    var bytes = Encoding.UTF8.GetBytes(body);
                    context.Response.StatusCode = status;
                    context.Response.ContentType = "application/json";
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public string Url => _listener.Prefixes.Single();

        public static ListServer Start(Func<HttpListenerRequest, (int Status, string Body)> answer)
        {
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{Tool.ClosedPort()}/");
            listener.Start();
            return new ListServer(listener, answer);
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop.WaitAsync(Tool.Timeout);
        }
    }
}
