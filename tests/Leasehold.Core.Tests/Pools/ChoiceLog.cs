using System.Globalization;
using Leasehold.Core.Pools;
using Leasehold.Core.Query;

namespace Leasehold.Core.Tests.Pools;

/// <summary>
/// Plays the host's part for <see cref="ChoiceReplayTests"/>: applies commands to a live engine and keeps, as the
/// log would, every command that changed state together with the pool choices the engine made for it.
/// <see cref="Replay"/> applies that log to a new engine, optionally under other matching rules.
/// </summary>
internal sealed class ChoiceLog
{
    public LockEngine Live { get; } = new(new EngineLimits { HistorySize = 50 });

    public List<Command> Records { get; } = [];

    /// <summary>What each logged command answered, and the waiters it settled, to compare with a replay's.</summary>
    public List<string> Answers { get; } = [];

    public object? Apply(Command command)
    {
        _ = Live.TakeChoices();
        var before = Live.Changes;
        var result = Live.Apply(command);
        var choices = Live.TakeChoices();
        var outcomes = Outcomes(Live);
        if (Live.Changes != before)
        {
            Records.Add(choices is null ? command : command with { Choices = choices });
            Answers.Add(Answer(result) + outcomes);
        }
        return result;
    }

    /// <summary>A new engine given the logged commands; <paramref name="rule"/> stands for other matching rules.</summary>
    public static (LockEngine Engine, List<string> Answers) Replay(IEnumerable<Command> records, Func<DeclaredResource, Requirement, bool>? rule)
    {
        var engine = new LockEngine(new EngineLimits { HistorySize = 50 }) { MatchRule = rule };
        var answers = new List<string>();
        foreach (var command in records)
        {
            var result = engine.Apply(command);
            answers.Add(Answer(result) + Outcomes(engine));
        }
        return (engine, answers);
    }

    /// <summary>
    /// "Under load", as when a match could time out: the match of some (resource, requirement) pairs, chosen
    /// by a hash salted with <paramref name="salt"/>, is lost. The rest match as the requirement says.
    /// </summary>
    public static Func<DeclaredResource, Requirement, bool> UnderLoad(int salt)
        => (resource, requirement) => Fnv(resource.Path.Value + "\n" + requirement.Text, salt) % 3 != 0 && requirement.Matches(resource.Attributes);

    private static uint Fnv(string text, int salt)
    {
        var hash = 2166136261u ^ (uint)salt;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return hash;
    }

    /// <summary>Everything the engine holds, in a fixed order: leases with their groups' choices, the queue, resources, history.</summary>
    public static string Describe(LockEngine engine)
    {
        var lines = new List<string> { $"last fence {engine.LastFence}" };
        lines.AddRange(engine.Leases.OrderBy(l => l.Id).Select(l =>
            $"lease {l.Id} fence {l.Fence} [{Join(l.Paths)}] owner {l.Owner} ttl {l.TtlMs} expires {l.ExpiresAt} at {l.AcquiredAt} waited {l.WaitedMs} "
            + $"groups {(l.Groups is null ? "-" : string.Join(" | ", l.Groups.Select(g => $"{g.Group.Pool}{g.Requirement.Text}x{g.Group.Count}=[{Join(g.Chosen)}]")))}"));
        // A pool waiter's candidates are a set (the engine and a replay may list them in another order).
        lines.AddRange(engine.Queue.Select(w =>
            $"waiter {w.Id} [{string.Join(" ", w.Paths.Select(p => p.Value).Order(StringComparer.Ordinal))}] deadline {w.Deadline} owner {w.Owner}"));
        lines.AddRange(engine.ListDeclared(ResourcePath.Root).Select(r => $"resource {r.Path} {r.AttributesJson} released {r.ReleasedSeq}"));
        lines.AddRange(engine.History.Select(h =>
            $"history {h.LeaseId} fence {h.Fence} [{Join(h.Paths)}] {h.Reason} at {h.EndedAt} requirements {string.Join(" ", h.Requirements ?? [])}"));
        return string.Join("\n", lines);
    }

    private static string Answer(object? result) => result switch
    {
        AcquireResult r => $"{r.Error} lease {r.Lease?.Id} [{(r.Lease is null ? "" : Join(r.Lease.Paths))}] waiter {r.Waiter?.Id}",
        OperationResult<Lease> r => $"{r.Error} lease {r.Value?.Id}",
        OperationResult<DeclaredResource> r => $"{r.Error} resource {r.Value?.Path}",
        null => "null",
        var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Outcomes(LockEngine engine)
    {
        var text = string.Concat(engine.Outcomes.Select(o => $"; waiter {o.WaiterId} {o.Error} lease {o.Lease?.Id} [{(o.Lease is null ? "" : Join(o.Lease.Paths))}]"));
        engine.DiscardOutcomes();
        return text;
    }

    private static string Join(IEnumerable<ResourcePath> paths) => string.Join(" ", paths.Select(p => p.Value));
}
