using System.Diagnostics;

namespace Leasehold.DistributedLock.Tests;

/// <summary>
/// A second OS process holding a distributed lock through the provider: the built <c>lock-holder</c> program
/// (tests/Leasehold.DistributedLock.Holder), run as <c>dotnet lock-holder.dll SERVER KIND NAME [SESSION-TTL]</c>.
/// Every wait on it is bounded; a process still running at dispose is killed.
/// </summary>
public sealed class HolderProcess : IDisposable
{
    private readonly Process _process;

    private HolderProcess(Process process)
    {
        _process = process;
    }

    private static string Dotnet => Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";

    /// <summary>Starts the holder and waits until it says it holds the lock; returns it and the fence it printed.</summary>
    public static async Task<(HolderProcess Holder, long Fence)> StartHoldingAsync(Uri server, string kind, string name, double sessionTtlSeconds = 3)
    {
        var holder = Start(server, kind, name, sessionTtlSeconds);
        try
        {
            var fence = await holder.HeldAsync();
            return (holder, fence);
        }
        catch
        {
            holder.Dispose();
            throw;
        }
    }

    /// <summary>Starts the holder; it waits for the lock as long as it takes.</summary>
    public static HolderProcess Start(Uri server, string kind, string name, double sessionTtlSeconds = 3)
    {
        var start = new ProcessStartInfo(Dotnet)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "lock-holder.dll"), server.ToString(), kind, name, sessionTtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_NOLOGO"] = "1";
        return new HolderProcess(Process.Start(start) ?? throw new InvalidOperationException("lock-holder did not start"));
    }

    /// <summary>Waits (bounded) for the "held FENCE" line.</summary>
    public async Task<long> HeldAsync()
    {
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(LockTestServer.Timeout);
        if (line is null || !line.StartsWith("held ", StringComparison.Ordinal))
        {
            var stderr = await _process.StandardError.ReadToEndAsync().WaitAsync(LockTestServer.Timeout);
            throw new InvalidOperationException($"lock-holder said '{line}' instead of holding: {stderr}");
        }
        return long.Parse(line["held ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Tells it to release, and waits (bounded) for it to say so and exit 0.</summary>
    public async Task ReleaseAsync()
    {
        await _process.StandardInput.WriteLineAsync("release");
        await _process.StandardInput.FlushAsync();
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(LockTestServer.Timeout);
        Assert.Equal("released", line);
        await _process.WaitForExitAsync().WaitAsync(LockTestServer.Timeout);
        Assert.Equal(0, _process.ExitCode);
    }

    /// <summary>SIGKILL: it releases nothing; the server ends its leases when their session expires.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(LockTestServer.Timeout);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(LockTestServer.Timeout);
        }
        _process.Dispose();
    }
}
