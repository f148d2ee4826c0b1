using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Leasehold.Protocol;
using Leasehold.Server.Pools;

namespace Leasehold.Cli.Lockable;

/// <summary>
/// py-lockable's allocation, here and without a server: the matching resources of the list, in the list's
/// order, each tried with an OS file lock on <c>LOCK_FOLDER/ID.lock</c> (<see cref="LocalLock"/>); the
/// first free one is taken. Nothing matching fails at once; all held is retried (10 ms backoff growing to
/// 250 ms) until <c>--timeout</c> has passed.
/// </summary>
internal static class LockableLocal
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromMilliseconds(250);

    public static async Task<int> RunAsync(
        LockableSettings settings, LockableRequirement requirement, RunContext run, string prefix, string[] command, SignalForwarder signals)
    {
        var ttl = run.Selection.ReadTtl(run.Result);
        var grace = StopTimeline.LocalGrace(run.Result.GetValue(run.KillGrace));
        var resources = await ResourceList.LoadAsync(settings.Resources, signals.Interrupted);
        var candidates = resources.Where(requirement.Compiled.Matches).ToList();
        if (candidates.Count == 0)
        {
            throw new CliException(ExitCodes.NoMatch, ErrorCodes.NoMatch, requirement.NotAvailable);
        }
        var (resource, held) = await AllocateAsync(settings, candidates, signals.Interrupted)
            ?? throw new CliException(ExitCodes.Locked, ErrorCodes.Locked, LockableRequirement.Timeout(settings.Timeout));
        using (held)
        {
            if (signals.Received is { } early)
            {
                return ExitCodes.Signal(early);
            }
            var id = ResourceFile.IdText(resource.GetProperty("id"));
            var environment = LockableEnvironment.Attributes(resource, prefix);
            environment[LeaseEnvironment.Paths] = id;
            environment[LeaseEnvironment.LockFiles] = held.Files[0];
            environment[LeaseEnvironment.Fence] = held.Fence!.Value.ToString(CultureInfo.InvariantCulture);
            if (run.Json)
            {
                Console.Error.WriteLine(Failures.Object(writer =>
                {
                    writer.WritePropertyName("resource");
                    resource.WriteTo(writer);
                    writer.WriteString("lockFile", held.Files[0]);
                    writer.WriteNumber("fence", held.Fence!.Value);
                    writer.WritePropertyName("requirements");
                    requirement.Merged.WriteTo(writer);
                }));
            }
            using var deadline = ttl is { } limit ? new CancellationTokenSource(limit) : new CancellationTokenSource();
            return await ChildRunner.RunAsync(command, environment, signals, StopTimeline.ForLocal(deadline.Token, ttl, grace), run.Json, held.Handles);
        }
    }

    /// <summary>The first candidate whose lock is free, trying them all in order on each pass; null when the timeout ran out.</summary>
    private static async Task<(JsonElement Resource, LocalLock Held)?> AllocateAsync(
        LockableSettings settings, List<JsonElement> candidates, CancellationToken cancellationToken)
    {
        var files = candidates.Select(c => LockFile(settings.LockFolder, ResourceFile.IdText(c.GetProperty("id")))).ToList();
        var what = $"one of {candidates.Count} matching resources of {settings.Resources.Text}";
        var indicator = WaitIndicator.Start(what, settings.Timeout);
        var elapsed = Stopwatch.StartNew();
        var delay = FirstRetry;
        try
        {
            while (true)
            {
                for (var i = 0; i < candidates.Count; i++)
                {
                    if (await LocalLock.AcquireFilesAsync(settings.LockFolder, [files[i]], shared: false, TimeSpan.Zero, cancellationToken) is { } held)
                    {
                        await StopAsync(indicator, granted: true);
                        return (candidates[i], held);
                    }
                }
                var remaining = settings.Timeout - elapsed.Elapsed;
                if (remaining <= TimeSpan.Zero)
                {
                    await StopAsync(indicator, granted: false);
                    return null;
                }
                await Task.Delay(delay < remaining ? delay : remaining, cancellationToken);
                delay = delay * 2 < MaxRetry ? delay * 2 : MaxRetry;
            }
        }
        finally
        {
            if (indicator is not null)
            {
                await indicator.DisposeAsync();
            }
        }
    }

    private static async Task StopAsync(WaitIndicator? indicator, bool granted)
    {
        if (indicator is not null)
        {
            await indicator.StopAsync(granted);
        }
    }

    /// <summary>
    /// <c>FOLDER/ID.lock</c>, the id made a file name: '%', '/', '\' and NUL percent-encoded (so distinct ids
    /// never share a file; py-lockable crashes on an id with '/').
    /// </summary>
    public static string LockFile(string folder, string id)
    {
        var name = new StringBuilder(id.Length + 5);
        foreach (var c in id)
        {
            if (c is '%' or '/' or '\\' or '\0')
            {
                name.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                name.Append(c);
            }
        }
        return Path.Combine(Path.GetFullPath(folder), name.Append(".lock").ToString());
    }
}
