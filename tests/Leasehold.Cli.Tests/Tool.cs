using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Cli.Tests;

/// <summary>What a finished run of the tool left.</summary>
public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// The BUILT tool as a process: <c>dotnet leasehold.dll ...</c> from the test's output directory, with its
/// standard streams captured. Every wait on it is bounded; a process still running at dispose is killed.
/// </summary>
public sealed class Tool : IDisposable
{
    /// <summary>The bound on every single wait in the tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "leasehold.dll");

    /// <summary>The dotnet host running these tests, else the one on PATH.</summary>
    public static string Dotnet => Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private Task _stdoutClosed = Task.CompletedTask;
    private Task _stderrClosed = Task.CompletedTask;

    private Tool(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>leasehold ARGS</c>; <paramref name="server"/> becomes LEASEHOLD_SERVER, <paramref name="environment"/> is added.</summary>
    public static Tool Start(IEnumerable<string> args, Uri? server = null, IReadOnlyDictionary<string, string>? environment = null)
        => StartProgram(Dotnet, [Dll, .. args], server, environment);

    /// <summary>Starts another program (a shell driving the tool) with the same environment handling as <see cref="Start"/>.</summary>
    public static Tool StartProgram(string program, IEnumerable<string> args, Uri? server = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("LEASEHOLD_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_NOLOGO"] = "1";
        if (server is not null)
        {
            start.Environment["LEASEHOLD_SERVER"] = server.ToString();
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var process = new Process { StartInfo = start };
        var tool = new Tool(process);
        process.Start();
        process.StandardInput.Close();
        tool._stdoutClosed = PumpAsync(process.StandardOutput, tool._stdout);
        tool._stderrClosed = PumpAsync(process.StandardError, tool._stderr);
        return tool;
    }

    /// <summary>Copies a stream as it comes, characters as they are (a carriage return stays one).</summary>
    private static async Task PumpAsync(StreamReader reader, StringBuilder builder)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (builder)
            {
                builder.Append(buffer, 0, read);
            }
        }
    }

    public static async Task<ToolResult> RunAsync(Uri? server, params string[] args)
    {
        using var tool = Start(args, server);
        return await tool.WaitAsync();
    }

    public static Task<ToolResult> RunAsync(CliServer server, params string[] args) => RunAsync(server.BaseAddress, args);

    /// <summary>Runs the tool with no LEASEHOLD_SERVER set.</summary>
    public static Task<ToolResult> RunWithoutServerAsync(params string[] args) => RunAsync((Uri?)null, args);

    /// <summary>Waits for the exit (and the end of its output), at most <paramref name="within"/> (default <see cref="Timeout"/>).</summary>
    public async Task<ToolResult> WaitAsync(TimeSpan? within = null)
    {
        using var cts = new CancellationTokenSource(within ?? Timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed, _stderrClosed).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"leasehold did not exit within {(within ?? Timeout).TotalSeconds} s\n{Snapshot()}");
        }
        return new ToolResult(_process.ExitCode, Text(_stdout), Text(_stderr));
    }

    /// <summary>The output so far, for failure messages.</summary>
    public string Snapshot() => $"--- stdout\n{Text(_stdout)}\n--- stderr\n{Text(_stderr)}";

    private static string Text(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }

    /// <summary>Sends a signal with the kill command, as a person would.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        using var cts = new CancellationTokenSource(Timeout);
        await kill.WaitForExitAsync(cts.Token);
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>SIGKILL: no chance to release anything.</summary>
    public void KillHard() => _process.Kill();

    /// <summary>A loopback port nothing listens on (bound, then closed at once).</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Waits for a file the child writes (a marker that it started, or its pid), at most <see cref="Timeout"/>.</summary>
    public async Task<string> WaitForFileAsync(string path)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path) && await File.ReadAllTextAsync(path) is { Length: > 0 } text && text.EndsWith('\n'))
            {
                return text.Trim();
            }
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"leasehold exited ({_process.ExitCode}) before {path} appeared\n{Snapshot()}");
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"{path} did not appear within {Timeout.TotalSeconds} s\n{Snapshot()}");
    }

    /// <summary>Waits until standard output holds <paramref name="text"/>, at most <see cref="Timeout"/>; returns the output so far.</summary>
    public async Task<string> WaitForStdoutAsync(string text)
    {
        var deadline = DateTime.UtcNow + Timeout;
        string output;
        while (!(output = Text(_stdout)).Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow >= deadline || _process.HasExited)
            {
                throw new TimeoutException($"'{text}' did not appear on standard output within {Timeout.TotalSeconds} s\n{Snapshot()}");
            }
            await Task.Delay(25);
        }
        return output;
    }

    /// <summary>Waits until standard error holds <paramref name="text"/>, at most <see cref="Timeout"/>.</summary>
    public async Task WaitForStderrAsync(string text)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!Text(_stderr).Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow >= deadline || _process.HasExited)
            {
                throw new TimeoutException($"'{text}' did not appear on standard error within {Timeout.TotalSeconds} s\n{Snapshot()}");
            }
            await Task.Delay(25);
        }
    }

    /// <summary>Ends a process the test made (an orphaned child, by the pid it wrote), if it still runs.</summary>
    public static void KillPid(string pid)
    {
        try
        {
            using var process = Process.GetProcessById(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture));
            process.Kill();
        }
        catch (ArgumentException)
        {
            // Gone already.
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        _process.Dispose();
    }
}

/// <summary>A scratch directory per test, deleted at the end.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "leasehold-cli-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
