using System.Diagnostics;
using System.Net;
using System.Text;
using Leasehold.Protocol;
using Xunit.Abstractions;

namespace Leasehold.Server.Tests;

/// <summary>
/// The real server as a child process (the Leasehold.Server.dll copied next to this assembly), stopped
/// with SIGTERM as a service manager would: waiting requests are answered, the process exits with 0.
/// </summary>
public sealed class ShutdownTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    [Fact]
    public async Task SigtermAnswersWaitersAndExitsWithZero()
    {
        var serverDll = Path.Combine(AppContext.BaseDirectory, "Leasehold.Server.dll");
        Assert.True(File.Exists(serverDll), $"{serverDll} is missing");
        var workDir = Path.Combine(Path.GetTempPath(), "leasehold-shutdown-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(workDir);
        var port = FreePorts.Next();
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { serverDll, "--urls", $"http://127.0.0.1:{port}", "--Leasehold:Native:Port=0", "--data-dir", Path.Combine(workDir, "data") })
        {
            start.ArgumentList.Add(arg);
        }
        var log = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        string Log() { lock (log) { return log.ToString(); } }

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = Bound };
        try
        {
            Assert.True(process.Start());
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await WaitForHealthAsync(client, process, Log);

            using var hold = await client.PostAsync(new Uri("/v1/leases", UriKind.Relative), new StringContent("""{"path":"/z"}"""));
            Assert.Equal(HttpStatusCode.Created, hold.StatusCode);
            using var waitingClient = new HttpClient { BaseAddress = client.BaseAddress, Timeout = Bound };
            var waiter = waitingClient.PostAsync(new Uri("/v1/leases", UriKind.Relative), new StringContent("""{"path":"/z","wait":60}"""));
            await WaitForQueueAsync(client);

            var clock = Stopwatch.StartNew();
            await SignalAsync(process.Id, "TERM");

            // The waiter is answered with 503 shutting-down, or at least its connection is closed; not left to its 60 s wait.
            try
            {
                using var answer = await waiter.WaitAsync(Bound);
                var body = await answer.Content.ReadAsStringAsync();
                Assert.True(answer.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)answer.StatusCode}: {body}");
                Assert.Equal(ProblemDto.ContentType, answer.Content.Headers.ContentType?.MediaType);
                Assert.Contains("\"code\":\"shutting-down\"", body, StringComparison.Ordinal);
                output.WriteLine($"the waiter was answered {(int)answer.StatusCode} after {clock.ElapsedMilliseconds} ms");
            }
            catch (HttpRequestException ex)
            {
                // The connection closed under the waiting request: allowed.
                output.WriteLine($"the waiter's connection closed after {clock.ElapsedMilliseconds} ms: {ex.Message}");
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the waiter was answered only after {clock.Elapsed}");

            using (var exited = new CancellationTokenSource(Bound))
            {
                await process.WaitForExitAsync(exited.Token);
            }
            output.WriteLine($"exit code {process.ExitCode} after {clock.ElapsedMilliseconds} ms");
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}\n{Log()}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the process took {clock.Elapsed} to exit");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                using var killed = new CancellationTokenSource(Bound);
                await process.WaitForExitAsync(killed.Token);
            }
            Directory.Delete(workDir, recursive: true);
        }
    }

    private static async Task WaitForHealthAsync(HttpClient client, Process process, Func<string> log)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(process.HasExited, $"the server exited early\n{log()}");
            Assert.True(clock.Elapsed < Bound, $"no answer on /healthz within {Bound}\n{log()}");
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative), cts.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }
            await Task.Delay(50);
        }
    }

    private static async Task WaitForQueueAsync(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.True(clock.Elapsed < Bound, "the waiter never joined the queue");
            var text = await client.GetStringAsync(new Uri("/v1/resources/z", UriKind.Relative));
            if (!text.Contains("\"queue\":[]", StringComparison.Ordinal))
            {
                return;
            }
            await Task.Delay(10);
        }
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        using var cts = new CancellationTokenSource(Bound);
        await kill.WaitForExitAsync(cts.Token);
        Assert.Equal(0, kill.ExitCode);
    }
}
