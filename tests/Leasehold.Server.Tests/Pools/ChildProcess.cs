using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Leasehold.Server.Tests.Pools;

/// <summary>What a finished child process printed and returned.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit code {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs a program to completion with a bound on its run time: python3, or the server's own dll through the dotnet host.</summary>
public static class ChildProcess
{
    /// <summary>The bound on one child's run (a server start included).</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>The server next to this test assembly.</summary>
    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "Leasehold.Server.dll");

    /// <summary>The dotnet host running this test (the SDK sets DOTNET_HOST_PATH), else <c>dotnet</c> on PATH.</summary>
    public static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    /// <summary><c>dotnet Leasehold.Server.dll args...</c>, run to its exit.</summary>
    public static Task<ProcessResult> RunServerAsync(string workingDirectory, params string[] args)
    {
        Assert.True(File.Exists(ServerDll), $"{ServerDll} is missing");
        return RunAsync(DotnetHost(), [ServerDll, .. args], workingDirectory);
    }

    /// <summary>
    /// Starts the process (a missing program fails the test, naming it), waits at most <see cref="Bound"/>
    /// for its exit (then kills it and fails), and returns its exit code and output.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string program, IReadOnlyList<string> args, string workingDirectory)
    {
        var info = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (stdout) { stdout.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"this test needs '{program}' on PATH and could not start it: {ex.Message}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(Bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Fail($"'{program} {string.Join(' ', args)}' did not exit within {Bound.TotalSeconds} s\nstdout: {Text(stdout)}\nstderr: {Text(stderr)}");
        }
        // The exit is known; WaitForExit() without a timeout also waits for the redirected output to drain.
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, Text(stdout), Text(stderr));
    }

    private static string Text(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString().Trim();
        }
    }
}
