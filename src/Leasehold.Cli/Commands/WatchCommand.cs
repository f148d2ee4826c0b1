using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Leasehold.Client;

namespace Leasehold.Cli.Commands;

/// <summary>
/// <c>leasehold watch [PREFIX]</c>: every change under a prefix as it happens (docs/events.md), one line per event, or
/// the event's JSON with <c>--json</c>. It runs until Ctrl-C (or SIGTERM), which ends it with exit 0; a stream the
/// server cuts off, or a lost connection, is resumed by the client without a gap.
/// </summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var prefix = new Argument<string>("prefix")
        {
            Description = "Only events touching paths at or under this one (default /: every event, sessions' included)",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => "/",
        };
        var snapshot = new Option<bool>("--snapshot") { Description = "Start with the state under the prefix (a snapshot event)" };
        var after = new Option<long?>("--after")
        {
            Description = "Resume after this revision: the events after it, or a reset and a snapshot when the server no longer keeps them",
            HelpName = "REV",
        };
        var server = CommonOptions.Server();
        var json = CommonOptions.Json();
        json.Description = "One JSON object per line: each event as the server sent it";
        var command = new Command("watch", "Print every change under a prefix as it happens, until Ctrl-C");
        command.Add(prefix);
        command.Add(snapshot);
        command.Add(after);
        command.Add(server);
        command.Add(json);
        command.SetAction((result, _) =>
        {
            var asJson = result.GetValue(json);
            return Failures.GuardAsync(asJson, result.GetValue(server)!, async () =>
            {
                if (result.GetValue(after) is < 0)
                {
                    throw new UsageException("--after: a revision, 0 or more");
                }
                using var stop = new CancellationTokenSource();
                // Ctrl-C and SIGTERM end the watch normally (exit 0), not the process.
                using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
                using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
                using var client = CommonOptions.Client(result, CommonOptions.ServerUris(result.GetValue(server)!));
                var options = new WatchOptions { Snapshot = result.GetValue(snapshot), After = result.GetValue(after) };
                try
                {
                    await foreach (var e in client.WatchAsync(result.GetValue(prefix)!, options, stop.Token))
                    {
                        Console.Out.WriteLine(asJson ? e.Json : Line(e));
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                return ExitCodes.Ok;

                void Stop(PosixSignalContext context)
                {
                    context.Cancel = true;
                    stop.Cancel();
                }
            });
        });
        return command;
    }

    /// <summary>One event for people: local time, type, paths, then what it has of owner, fence, reason.</summary>
    internal static string Line(LeaseholdEvent e)
    {
        var line = new StringBuilder()
            .Append(e.At.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss.fff zzz", CultureInfo.InvariantCulture))
            .Append("  ").Append(e.Type.PadRight(14));
        if (e.IsSnapshot)
        {
            line.Append(CultureInfo.InvariantCulture, $" {e.Holders?.Count ?? 0} held, {e.Queue?.Count ?? 0} waiting, {e.Resources?.Count ?? 0} declared");
        }
        var paths = e.Paths;
        if (paths.Count > 0)
        {
            line.Append(' ').Append(string.Join(',', paths));
        }
        if (e.Session is { } session)
        {
            line.Append(CultureInfo.InvariantCulture, $" session={session.Id}");
        }
        var owner = e.Lease?.Owner ?? e.Waiter?.Owner ?? e.Session?.Owner;
        if (owner is not null)
        {
            line.Append(" owner=").Append(owner);
        }
        if (e.Lease is { } lease)
        {
            line.Append(CultureInfo.InvariantCulture, $" lease={lease.Id} fence={lease.Fence}");
        }
        if (e.Reason is { } reason)
        {
            line.Append(" reason=").Append(reason);
        }
        if ((e.EndedBy ?? e.Actor) is { } actor)
        {
            line.Append(" by=").Append(actor);
        }
        line.Append(CultureInfo.InvariantCulture, $" rev={e.Revision}");
        return line.ToString();
    }
}
