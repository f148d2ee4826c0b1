using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Leasehold.Server.Tests.Pools;

/// <summary>
/// The server dll as a child process: <c>validate FILE</c> with py-lockable's messages, refusing to start
/// on an invalid pool file, and SIGHUP reloading the file of a running server.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _workDir = Path.Combine(Path.GetTempPath(), "leasehold-cli-" + Guid.NewGuid().ToString("N"));

    public CommandLineTests() => Directory.CreateDirectory(_workDir);

    public void Dispose() => Directory.Delete(_workDir, recursive: true);

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_workDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task ValidateAcceptsAPyLockableFile()
    {
        var file = WriteFile("resources.json", ResourceListTests.LabFile);
        var result = await ChildProcess.RunServerAsync(_workDir, "validate", file);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"{file}: 3 resources, valid", result.Stdout);
        Assert.Equal("", result.Stderr);
        // It only checked: no data directory was made.
        Assert.False(Directory.Exists(Path.Combine(_workDir, "data")));
    }

    [Theory]
    [InlineData("""[{"id": "1"}, {"id": "1"}, {"id": "2"}]""", "Invalid json, duplicate ids in ['1']")]
    [InlineData("""[{"id": "a"}, {"id": "b"}, {"id": "a"}, {"id": "b"}, {"id": "a"}]""", "Invalid json, duplicate ids in ['a', 'b']")]
    [InlineData("""[{"id": "1"}, {"name": "no id"}]""", "Invalid json, id property is missing")]
    [InlineData("""[{"id": null}]""", "Invalid json, id property is missing")]
    [InlineData("""{"id": "1"}""", "invalid resources json file: *")]
    [InlineData("""this is not json""", "invalid resources json file: *")]
    [InlineData("""[{"id": "1"},]""", "invalid resources json file: *")]
    public async Task ValidatePrintsPyLockablesMessageAndExitsWithOne(string contents, string message)
    {
        var file = WriteFile("resources.json", contents);
        var result = await ChildProcess.RunServerAsync(_workDir, "validate", file);
        Assert.True(result.ExitCode == 1, result.ToString());
        AssertMessage(message, result.Stderr);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task ValidateOfAMissingFileExitsWithOne()
    {
        var result = await ChildProcess.RunServerAsync(_workDir, "validate", Path.Combine(_workDir, "missing.json"));
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("missing.json", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateWithoutAFileIsAUsageErrorNotAServer()
    {
        var result = await ChildProcess.RunServerAsync(_workDir, "validate");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("usage", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(Path.Combine(_workDir, "data")), "it started a server");
    }

    public static TheoryData<string, string[], string> RefusedStarts => new()
    {
        { """[{"id": "1"}, {"id": "1"}]""", ["--pool", "/lab", "--resources", "{file}"], "{file}: Invalid json, duplicate ids in ['1']" },
        { """[{"os": "linux"}]""", ["--pool", "/lab", "--resources", "{file}"], "{file}: Invalid json, id property is missing" },
        { "[{\"id\": \"1\"", ["--pool", "/lab", "--resources", "{file}"], "{file}: invalid resources json file: *" },
        { """[{"id": "a/b"}]""", ["--pool", "/lab", "--resources", "{file}"], "{file}: id 'a/b' cannot name a resource: *" },
        { "[]", ["--pool", "lab", "--resources", "{file}"], "Leasehold:Pools:0:Path 'lab': *" },
        { "[]", ["--Leasehold:Pools:0:Path=/ids", "--Leasehold:Pools:0:Ids=acct-9..acct-0"], "Leasehold:Pools:0:Ids: 'acct-9..acct-0' is not a range like name-0..name-9" },
        { "[]", ["--pool", "/lab", "--resources", "{file}", "--Leasehold:Pools:0:Ids=a,b"], "Leasehold:Pools:0 needs exactly one of File and Ids" },
    };

    [Theory]
    [MemberData(nameof(RefusedStarts))]
    public async Task TheServerRefusesToStartOnAnInvalidPool(string contents, string[] args, string message)
    {
        var file = WriteFile("resources.json", contents);
        var dataDir = Path.Combine(_workDir, "data");
        var result = await ChildProcess.RunServerAsync(_workDir,
            ["--urls", "http://127.0.0.1:0", "--data-dir", dataDir, .. args.Select(a => a.Replace("{file}", file, StringComparison.Ordinal))]);

        Assert.True(result.ExitCode == 2, result.ToString());
        AssertMessage("leasehold: cannot start: " + message.Replace("{file}", file, StringComparison.Ordinal), result.Stderr);
        // Refused before recovery: the data directory was never made.
        Assert.False(Directory.Exists(dataDir), "the data directory was created");
    }

    [Fact]
    public async Task SighupReloadsTheFileOfARunningServer()
    {
        var file = WriteFile("resources.json", """[{"id": "a", "os": "linux"}, {"id": "b", "os": "win"}]""");
        var port = FreePorts.Next();
        var info = new ProcessStartInfo(ChildProcess.DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _workDir,
        };
        foreach (var arg in (string[])[ChildProcess.ServerDll, "--urls", $"http://127.0.0.1:{port}", "--Leasehold:Native:Port=0", "--data-dir", Path.Combine(_workDir, "data"),
                     "--Logging:LogLevel:Default=Warning", "--pool", "/lab", "--resources", file])
        {
            info.ArgumentList.Add(arg);
        }
        var log = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        string Log() { lock (log) { return log.ToString(); } }
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            Assert.True(process.Start());
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await PollAsync(process, Log, async () =>
            {
                try
                {
                    using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
                    return health.StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
                catch (TaskCanceledException)
                {
                    return false;
                }
            }, "the server answers /healthz");
            Assert.Equal(["a", "b"], await IdsAsync(client));

            File.WriteAllText(file, """[{"id": "a", "os": "linux"}, {"id": "c", "os": "mac"}]""");
            await SignalAsync(process.Id, "HUP");
            await PollAsync(process, Log, async () => (await IdsAsync(client)).SequenceEqual(["a", "c"]), "the file is reloaded");

            var c = await client.GetStringAsync(new Uri("/v1/resources/lab/c", UriKind.Relative));
            Assert.Equal("mac", JsonDocument.Parse(c).RootElement.GetProperty("attributes").GetProperty("os").GetString());
            Assert.False(process.HasExited, $"the server exited on SIGHUP\n{Log()}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
    }

    /// <summary>Exact, or a prefix when <paramref name="expected"/> ends with '*'.</summary>
    private static void AssertMessage(string expected, string actual)
    {
        if (expected.EndsWith('*'))
        {
            Assert.StartsWith(expected[..^1], actual, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', actual);
        }
        else
        {
            Assert.Equal(expected, actual);
        }
    }

    private static async Task<string[]> IdsAsync(HttpClient client)
    {
        var text = await client.GetStringAsync(new Uri("/v1/pools/lab/resources.json", UriKind.Relative));
        using var document = JsonDocument.Parse(text);
        return [.. document.RootElement.EnumerateArray().Select(r => r.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
    }

    private static async Task PollAsync(Process process, Func<string> log, Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.False(process.HasExited, $"the server exited while waiting until {what}\n{log()}");
            Assert.True(clock.Elapsed < ChildProcess.Bound, $"timed out waiting until {what}\n{log()}");
            await Task.Delay(25);
        }
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        var result = await ChildProcess.RunAsync("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)], Path.GetTempPath());
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
