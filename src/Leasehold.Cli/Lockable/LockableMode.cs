using System.CommandLine;

namespace Leasehold.Cli.Lockable;

/// <summary>What <c>run</c> parsed, handed to py-lockable mode.</summary>
internal sealed record RunContext(
    ParseResult Result, SelectionOptions Selection, Option<string> Local, Option<TimeSpan?> SessionTtl, Option<string> EnvPrefix,
    Option<TimeSpan?> KillGrace, string[] Words, bool Json);

/// <summary>
/// <c>leasehold run</c> with py-lockable's flags (docs/compat/py-lockable.md): the flags, defaults, flow,
/// messages and exit codes of <c>lockable</c>. A resources file is allocated here with OS lock files
/// (<see cref="LockableLocal"/>); a Leasehold pool's URL on its server (<see cref="LockableServer"/>).
/// </summary>
internal static class LockableMode
{
    /// <summary>The shell py-lockable runs the command with (<c>subprocess</c>'s <c>shell=True</c>).</summary>
    public const string Shell = "/bin/sh";

    public static async Task<int> RunAsync(LockableOptions lockable, RunContext run)
    {
        CheckNoConflicts(run);
        var settings = lockable.Read(run.Result);
        using var signals = new SignalForwarder();
        try
        {
            if (settings.ValidateOnly)
            {
                // py-lockable wants a (dummy) command even here; one is accepted and not run.
                var resources = await ResourceList.LoadAsync(settings.Resources, signals.Interrupted);
                Console.WriteLine($"{settings.Resources.Text}: {resources.Count} resources, valid");
                return ExitCodes.Ok;
            }
            if (run.Words.Length == 0)
            {
                throw new CliException(ExitCodes.Error, "usage", "command is mandatory");
            }
            var requirement = LockableRequirement.Build(settings.Requirements, settings.Hostname);
            var prefix = LeaseEnvironment.CheckPrefix(run.Result.GetValue(run.EnvPrefix));
            // As lockable: the words joined with spaces, run by the shell.
            string[] command = [Shell, "-c", string.Join(' ', run.Words)];
            return settings.Resources.IsLeaseholdPool
                ? await LockableServer.RunAsync(settings, requirement, run, prefix, command, signals)
                : await LockableLocal.RunAsync(settings, requirement, run, prefix, command, signals);
        }
        catch (OperationCanceledException) when (signals.Received is { } signal)
        {
            return ExitCodes.Signal(signal);
        }
    }

    /// <summary>The resource is chosen by the requirement: no paths, pools or local names alongside.</summary>
    private static void CheckNoConflicts(RunContext run)
    {
        var selection = run.Selection;
        Option[] others = [selection.Paths, selection.Pool, selection.Require, selection.Count, selection.Shared, selection.Limit, selection.Wait, run.Local];
        var given = others.Where(o => run.Result.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 0)
        {
            throw new UsageException($"py-lockable's flags (--requirements, --resources, --lock-folder, --validate-only, --timeout, --hostname) "
                                     + $"choose the resource themselves: not with {string.Join(", ", given)} (use --timeout for --wait)");
        }
    }
}
