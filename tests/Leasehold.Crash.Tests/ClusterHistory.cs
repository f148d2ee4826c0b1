using System.Collections.Concurrent;

namespace Leasehold.Crash.Tests;

/// <summary>One acknowledged grant, as its client saw it (times are the test's wall clock, in Unix ms).</summary>
internal sealed class Grant
{
    public required int Client { get; init; }

    public required long LeaseId { get; init; }

    public required string Token { get; init; }

    public required long Fence { get; init; }

    public required string Path { get; init; }

    public required long InvokedAt { get; init; }

    public required long AnsweredAt { get; init; }

    /// <summary>The deadline the server gave (Unix ms), or null without a ttl.</summary>
    public required long? ExpiresAt { get; init; }

    /// <summary>When the client sent the release it got an answer to, or null if no release was acknowledged.</summary>
    public long? ReleaseInvokedAt { get; set; }

    /// <summary>When the client first sent a release that went unanswered (it may have taken effect), or null.</summary>
    public long? UnansweredReleaseAt { get; set; }

    /// <summary>The latest moment the client may have treated the lease as held.</summary>
    public long End => ReleaseInvokedAt ?? ExpiresAt ?? long.MaxValue;
}

/// <summary>
/// Everything the failover workload's clients did and were told, and the checks over it: no two conflicting
/// holders at once, fences strictly increasing in real-time order and never reused, no acknowledged grant
/// lost, and remaining lease time kept.
/// </summary>
internal sealed class ClusterHistory
{
    /// <summary>Slack for comparing a client's clock with a deadline the server computed (same machine, different processes).</summary>
    public const long ClockSlackMs = 250;

    private readonly ConcurrentBag<Grant> _grants = [];
    private readonly ConcurrentQueue<string> _violations = new();

    public IReadOnlyCollection<Grant> Grants => _grants;

    public long Unknown;

    public void Add(Grant grant) => _grants.Add(grant);

    public void Violation(string text) => _violations.Enqueue(text);

    public IReadOnlyList<string> Check()
    {
        var problems = new List<string>(_violations);
        var all = _grants.ToList();
        foreach (var group in all.GroupBy(g => g.Fence).Where(g => g.Count() > 1))
        {
            problems.Add($"fence {group.Key} issued {group.Count()} times: leases {string.Join(", ", group.Select(g => g.LeaseId))}");
        }
        // Real-time order: a grant answered before another was asked for has the smaller fence.
        var byAnswer = all.OrderBy(g => g.AnsweredAt).ToList();
        var prefixMax = new long[byAnswer.Count];
        for (var i = 0; i < byAnswer.Count; i++)
        {
            prefixMax[i] = Math.Max(i > 0 ? prefixMax[i - 1] : long.MinValue, byAnswer[i].Fence);
        }
        foreach (var later in all)
        {
            var before = UpperBound(byAnswer, later.InvokedAt) - 1;
            if (before >= 0 && prefixMax[before] >= later.Fence)
            {
                problems.Add($"fence {later.Fence} (lease {later.LeaseId}, asked at {later.InvokedAt}) is not above fence {prefixMax[before]} granted before it was asked for");
            }
        }
        // Mutual exclusion: on one path, the earlier-fenced lease ended before the later one was known held.
        foreach (var path in all.GroupBy(g => g.Path))
        {
            var leases = path.OrderBy(g => g.Fence).ToList();
            for (var i = 0; i < leases.Count; i++)
            {
                for (var j = i + 1; j < leases.Count; j++)
                {
                    var (a, b) = (leases[i], leases[j]);
                    var slack = a.ReleaseInvokedAt is null ? ClockSlackMs : 0;
                    if (a.End > b.AnsweredAt + slack)
                    {
                        problems.Add($"{path.Key}: lease {a.LeaseId} (fence {a.Fence}, client {a.Client}) held until {a.End} while lease {b.LeaseId} (fence {b.Fence}, client {b.Client}) was granted at {b.AnsweredAt}");
                    }
                }
            }
        }
        return problems;
    }

    private static int UpperBound(List<Grant> sorted, long time)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (sorted[mid].AnsweredAt < time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}
