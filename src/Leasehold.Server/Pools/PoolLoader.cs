using System.Runtime.InteropServices;
using System.Text.Json;
using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Engine;

namespace Leasehold.Server.Pools;

/// <summary>The resources each configured pool should have, read from its file or id list.</summary>
public sealed record PoolContents(ResourcePath Pool, IReadOnlyDictionary<ResourcePath, string> Resources);

/// <summary>
/// Loads the configured pools before the server takes requests, and again on SIGHUP or
/// <c>POST /v1/pools/reload</c>: declares new and changed resources and removes those gone from the
/// file, except ones held right now, which stay until released and a later reload.
/// </summary>
public sealed partial class PoolLoader(EngineHost host, IReadOnlyList<PoolOptions> pools, ILogger<PoolLoader> logger) : IHostedLifecycleService, IDisposable
{
    private PosixSignalRegistration? _hangup;

    /// <summary>Reads every configured pool; a bad file gives py-lockable's message naming the file.</summary>
    public static bool TryRead(IReadOnlyList<PoolOptions> pools, out IReadOnlyList<PoolContents> contents, out string error)
    {
        var all = new List<PoolContents>();
        contents = all;
        for (var i = 0; i < pools.Count; i++)
        {
            var options = pools[i];
            if (!ResourcePath.TryParse(options.Path, out var pool, out error))
            {
                error = $"Leasehold:Pools:{i}:Path '{options.Path}': {error}";
                return false;
            }
            var resources = new Dictionary<ResourcePath, string>();
            if (options.File is not null == (options.Ids is not null))
            {
                error = $"Leasehold:Pools:{i} needs exactly one of File and Ids";
                return false;
            }
            if (options.File is { } file)
            {
                if (!ResourceFile.TryLoad(file, out var items, out error))
                {
                    error = $"{file}: {error}";
                    return false;
                }
                foreach (var item in items)
                {
                    if (!Add(resources, pool, ResourceFile.IdText(item.GetProperty("id")), item.GetRawText(), out error))
                    {
                        error = $"{file}: {error}";
                        return false;
                    }
                }
            }
            else if (!ResourceFile.TryExpandIds(options.Ids!, out var ids, out error))
            {
                error = $"Leasehold:Pools:{i}:Ids: {error}";
                return false;
            }
            else
            {
                foreach (var id in ids)
                {
                    if (!Add(resources, pool, id, JsonSerializer.Serialize(new Dictionary<string, string> { ["id"] = id }, PoolsJsonContext.Default.DictionaryStringString), out error))
                    {
                        return false;
                    }
                }
            }
            all.Add(new PoolContents(pool, resources));
        }
        error = "";
        return true;
    }

    private static bool Add(Dictionary<ResourcePath, string> resources, ResourcePath pool, string id, string attributes, out string error)
    {
        if (!ResourceFile.TryPathOf(pool, id, out var path, out error))
        {
            error = $"id '{id}' cannot name a resource: {error}";
            return false;
        }
        resources[path] = attributes;
        return true;
    }

    /// <summary>Re-reads the configured pools and applies the difference in one step of the writer.</summary>
    public async Task<(ReloadDto? Result, string? Error)> ReloadAsync()
    {
        if (!TryRead(pools, out var contents, out var error))
        {
            LogReloadRefused(error);
            return (null, error);
        }
        ReloadDto result;
        try
        {
            result = await host.Submit(new ReloadItem(contents)).ConfigureAwait(false);
        }
        catch (NotLeaderException)
        {
            // A cluster node declares its pools when it starts leading (Leading, below); until then the leader's stand.
            LogNotLeading();
            return (null, "this cluster node does not lead; its pools are declared when it does");
        }
        LogReloaded(result.Declared, result.Updated, result.Removed, result.Kept.Length);
        return (result, null);
    }

    /// <summary>One reload on the writer: the difference between the pools' contents and what is declared, applied.</summary>
    private sealed class ReloadItem(IReadOnlyList<PoolContents> contents) : ValueItem<ReloadDto>
    {
        protected override ReloadDto Compute(Writer writer) => Apply(writer, contents);
    }

    private static ReloadDto Apply(Writer writer, IReadOnlyList<PoolContents> contents)
    {
        int declared = 0, updated = 0, removed = 0;
        var kept = new List<string>();
        foreach (var (pool, resources) in contents)
        {
            var current = writer.Engine.ListDeclared(pool).ToDictionary(r => r.Path);
            foreach (var (path, attributes) in resources)
            {
                var existing = current.GetValueOrDefault(path);
                if (existing is not null && Same(existing.AttributesJson, attributes))
                {
                    continue;
                }
                writer.Run(new DeclareResource { Now = writer.Now, Path = path, Attributes = attributes }, static (e, c) => e.Declare(c));
                _ = existing is null ? declared++ : updated++;
            }
            foreach (var path in current.Keys.Where(p => !resources.ContainsKey(p)))
            {
                var result = writer.Run(new RemoveResource { Now = writer.Now, Path = path }, static (e, c) => e.Remove(c));
                if (result.Error == ErrorCode.None)
                {
                    removed++;
                }
                else
                {
                    kept.Add(path.Value);
                }
            }
        }
        return new ReloadDto { Declared = declared, Updated = updated, Removed = removed, Kept = [.. kept] };
    }

    private static bool Same(string a, string b)
    {
        using var left = JsonDocument.Parse(a);
        using var right = JsonDocument.Parse(b);
        return JsonElement.DeepEquals(left.RootElement, right.RootElement);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Loads the pools. In <c>StartAsync</c>, not <c>StartingAsync</c>: the engine host's flusher starts in a
    /// <c>StartingAsync</c> (<see cref="Engine.EngineLifecycle"/>, registered after this), and a write awaited before it
    /// would never be answered. Registered before the front-ends (idserver, HTTP), whose <c>StartAsync</c> runs after this
    /// one, so the pools are loaded before they take requests.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (pools.Count > 0)
        {
            // In a cluster, the node that starts leading declares the pools it is configured with.
            host.Leading += () => _ = ReloadAsync();
            await ReloadAsync().ConfigureAwait(false);
        }
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (pools.Count > 0 && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                _ = ReloadAsync();
            });
        }
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _hangup?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Pools loaded: {Declared} declared, {Updated} updated, {Removed} removed, {Kept} kept because held")]
    private partial void LogReloaded(int declared, int updated, int removed, int kept);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pools not declared now: this cluster node does not lead (it declares them when it does)")]
    private partial void LogNotLeading();

    [LoggerMessage(Level = LogLevel.Error, Message = "Pool reload refused, nothing changed: {Error}")]
    private partial void LogReloadRefused(string error);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class PoolsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
