using System.Globalization;

namespace Leasehold.Cli.Tests;

/// <summary>
/// A command for <c>run</c> (Linux: it reads <c>/proc</c>) that starts a tree of five processes of each
/// kind <c>run</c> must stop: the shell itself, a background child, a child in a session and process
/// group of its own (<c>setsid</c>), a double-forked orphan, and a double-forked orphan in a session of
/// its own. Each writes its pid to a file, and once all five have, the shell writes the ready file. A
/// stubborn tree ignores SIGTERM (the shell's <c>trap '' TERM</c> is inherited), so only SIGKILL ends it.
/// The sleeps carry a number of their own, to be told apart in <c>ps</c>. Disposing SIGKILLs whatever of
/// the tree still runs, so a failed test leaves nothing behind.
/// </summary>
public sealed class CommandTree : IDisposable
{
    public const int Size = 5;

    private static int s_next;

    private readonly string _pids;

    public CommandTree(TempDir dir, bool stubborn, string before = "")
    {
        _pids = dir.File("tree-pids");
        Ready = dir.File("tree-ready");
        var marker = 100_000 + (Environment.ProcessId % 1000 * 100) + (Interlocked.Increment(ref s_next) % 100);
        // The tree's output goes to a file: processes left running must not keep the tool's pipes open,
        // which would turn a failure into a timeout waiting for its output to end.
        var script = (stubborn ? "trap '' TERM; " : "")
                     + $"exec > {dir.File("tree-log")} 2>&1; "
                     + before
                     + $"echo $$ >> {_pids}; "
                     + $"sleep {marker}1 & echo $! >> {_pids}; "
                     + $"setsid sh -c 'echo $$ >> {_pids}; exec sleep {marker}2' & "
                     + $"(sh -c 'echo $$ >> {_pids}; exec sleep {marker}3' &); "
                     + $"(setsid sh -c 'echo $$ >> {_pids}; exec sleep {marker}4' &); "
                     + $"while [ $(wc -l < {_pids}) -lt {Size} ]; do sleep 0.02; done; echo >> {Ready}; "
                     + "wait";
        Command = ["sh", "-c", script];
    }

    /// <summary>The command's words, for after <c>--</c>.</summary>
    public string[] Command { get; }

    /// <summary>Written once every process of the tree runs.</summary>
    public string Ready { get; }

    public IReadOnlyList<int> Pids => File.Exists(_pids)
        ? [.. File.ReadAllLines(_pids).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture))]
        : [];

    /// <summary>The processes of the tree that still run (a zombie does not).</summary>
    public List<int> Running() => [.. Pids.Where(IsRunning)];

    /// <summary>
    /// A shell command that writes the pids of the tree that run at that moment to <paramref name="output"/>,
    /// one a line, then <c>done</c>: the next holder of the lock runs it the moment it is granted.
    /// </summary>
    public string CheckScript(string output)
        => $"for p in $(cat {_pids}); do s=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null); case \"$s\" in ''|Z|X) ;; *) echo $p;; esac; done > {output}.tmp; "
           + $"echo done >> {output}.tmp; mv {output}.tmp {output}";

    /// <summary>What <see cref="CheckScript"/> wrote: the pids that ran when it ran.</summary>
    public static List<string> RunningAtCheck(string checkText) => [.. checkText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l != "done")];

    /// <summary>Waits (bounded) until none of the tree runs; how long that took, or null if it never happened.</summary>
    public async Task<TimeSpan?> WaitGoneAsync(TimeSpan within)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < within)
        {
            if (Running().Count == 0)
            {
                return watch.Elapsed;
            }
            await Task.Delay(10);
        }
        return null;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        foreach (var pid in Running())
        {
            Tool.KillPid(pid.ToString(CultureInfo.InvariantCulture));
        }
    }
}
