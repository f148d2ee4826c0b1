using System.CommandLine;
using System.Text.Json;
using Leasehold.Client;

namespace Leasehold.Cli;

/// <summary>
/// What to acquire and how: <c>--path</c> (repeatable) or <c>--pool</c>/<c>--require</c>/<c>--count</c>, plus
/// mode, ttl, wait and owner. Shared by <c>run</c> and <c>lock</c>.
/// </summary>
internal sealed class SelectionOptions
{
    public Option<string[]> Paths { get; } = new("--path")
    {
        Description = "A path to hold; repeat it to hold several at once (all or none)",
        HelpName = "PATH",
        Arity = ArgumentArity.OneOrMore,
    };

    public Option<string> Pool { get; } = new("--pool")
    {
        Description = "Allocate declared resources from this pool instead of naming paths",
        HelpName = "POOL",
    };

    public Option<string> Require { get; } = new("--require")
    {
        Description = "With --pool: the requirement, JSON ('{\"os\": \"android\"}') or k=v&k2=v2",
        HelpName = "QUERY",
    };

    public Option<int> Count { get; } = new("--count")
    {
        Description = "With --pool: how many resources",
        HelpName = "N",
        DefaultValueFactory = _ => 1,
    };

    public Option<bool> Shared { get; } = new("--shared")
    {
        Description = "Hold the paths shared instead of exclusive",
    };

    public Option<int?> Limit { get; } = new("--limit")
    {
        Description = "Semaphore size: up to N exclusive holders at once",
        HelpName = "N",
    };

    public Option<TimeSpan?> Ttl { get; } = Durations.Option("--ttl", "The lease's own time to live (see the command's description)");

    public Option<TimeSpan?> Wait { get; } = Durations.Option("--wait", "How long to wait for the lease; 0 tries once [default: 0]");

    public Option<string> Owner { get; } = CommonOptions.Owner();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Paths, Pool, Require, Count, Shared, Limit, Ttl, Wait, Owner })
        {
            command.Add(option);
        }
    }

    public TimeSpan ReadWait(ParseResult result)
    {
        var wait = result.GetValue(Wait) ?? TimeSpan.Zero;
        return wait < TimeSpan.Zero ? throw new UsageException("--wait: must not be negative") : wait;
    }

    public TimeSpan? ReadTtl(ParseResult result)
    {
        var ttl = result.GetValue(Ttl);
        return ttl <= TimeSpan.Zero ? throw new UsageException("--ttl: must be positive") : ttl;
    }

    /// <summary>The selection as client options; <see cref="UsageException"/> when the combination is wrong.</summary>
    public AcquireOptions Read(ParseResult result)
    {
        var paths = result.GetValue(Paths) ?? [];
        var pool = result.GetValue(Pool);
        var require = result.GetValue(Require);
        var shared = result.GetValue(Shared);
        var limit = result.GetValue(Limit);
        if (paths.Length > 0 && pool is not null)
        {
            throw new UsageException("give --path or --pool, not both");
        }
        if (paths.Length == 0 && pool is null)
        {
            throw new UsageException("give --path PATH (repeatable) or --pool POOL [--require QUERY] [--count N]");
        }
        if (pool is null && (require is not null || result.GetResult(Count) is { Implicit: false }))
        {
            throw new UsageException("--require and --count go with --pool");
        }
        var count = result.GetValue(Count);
        if (count < 1)
        {
            throw new UsageException("--count: must be at least 1");
        }
        if (pool is not null && (shared || limit is not null))
        {
            throw new UsageException("pool resources are held exclusively: no --shared or --limit with --pool");
        }
        if (shared && limit is not null)
        {
            throw new UsageException("--limit is for exclusive holders: not with --shared");
        }
        if (limit < 1)
        {
            throw new UsageException("--limit: must be at least 1");
        }
        CheckRequire(require);
        var options = pool is not null ? AcquireOptions.FromPool(pool, require, count) : AcquireOptions.ForPaths(paths);
        return options with
        {
            Shared = shared,
            Limit = limit,
            Ttl = ReadTtl(result),
            Wait = ReadWait(result),
            Owner = result.GetValue(Owner),
        };
    }

    private static void CheckRequire(string? require)
    {
        if (require is null || !require.TrimStart().StartsWith('{'))
        {
            return;
        }
        try
        {
            using var document = JsonDocument.Parse(require);
        }
        catch (JsonException ex)
        {
            throw new UsageException($"--require: not valid JSON: {ex.Message}");
        }
    }

    /// <summary>The request in a few words, for messages: the paths, or the pool and requirement.</summary>
    public static string Describe(AcquireOptions options)
        => options.Paths.Count > 0
            ? string.Join(' ', options.Paths)
            : string.Join(", ", options.Groups.Select(g => $"{g.Count} from {g.Pool}" + (g.Require is null ? "" : $" matching {g.Require}")));
}
