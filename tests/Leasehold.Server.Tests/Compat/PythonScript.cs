using System.ComponentModel;
using System.Diagnostics;

namespace Leasehold.Server.Tests.Compat;

/// <summary>
/// Runs the standard-library Python 3 clients in <c>Compat/python</c> (copied next to the test assembly).
/// python3 is required: without it the tests fail and say so; they are never skipped.
/// </summary>
internal static class PythonScript
{
    /// <summary>The bound on one script run (each of its HTTP calls has a 10 s timeout of its own).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string PathOf(string script) => Path.Combine(AppContext.BaseDirectory, "Compat", "python", script);

    /// <summary>Runs one case of <paramref name="script"/> against <paramref name="server"/>; fails with the script's output.</summary>
    public static async Task RunCaseAsync(string script, Uri server, string name)
    {
        var (exitCode, output) = await RunAsync(PathOf(script), server.ToString(), name);
        Assert.True(exitCode == 0, $"{script} {name} failed (exit code {exitCode}):\n{output}");
        Assert.Equal("ok", output.Trim());
    }

    /// <summary>The case names <paramref name="script"/> defines.</summary>
    public static async Task<string[]> ListCasesAsync(string script)
    {
        var (exitCode, output) = await RunAsync(PathOf(script), "--list");
        Assert.True(exitCode == 0, $"{script} --list failed (exit code {exitCode}):\n{output}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Runs <c>python3</c> with <paramref name="arguments"/>; returns its exit code and its output (stdout, then stderr).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Win32Exception ex)
        {
            Assert.Fail("python3 is required by the compatibility tests (they run standard-library Python 3 clients), "
                + $"but it could not be started: {ex.Message}. Install Python 3 so that `python3` is on PATH.");
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"python3 {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s");
            }
            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
