using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Leasehold.Cli.Lockable;
using Leasehold.Client;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands;

/// <summary><c>leasehold run [selection] -- COMMAND ARGS...</c>: hold a lease while a command runs.</summary>
internal static class RunCommand
{
    private static readonly TimeSpan DefaultSessionTtl = TimeSpan.FromSeconds(15);

    public static Command Create()
    {
        var selection = new SelectionOptions();
        selection.Ttl.Description = "The lease's own time to live, renewed while the command runs (without it the lease is bound to a session); "
                                    + "with --local: the most the command may run before it gets SIGTERM";
        var server = CommonOptions.Server();
        var json = CommonOptions.Json();
        var sessionTtl = Durations.Option("--session-ttl", "Without --ttl: the session's time to live, so how long the lease outlives a killed leasehold [default: 15]");
        var envPrefix = new Option<string>("--env-prefix")
        {
            Description = "Prefix of the variables made from a pool resource's attributes (ID, HOSTNAME, ...) [default: none]",
            HelpName = "PREFIX",
        };
        var local = new Option<string>("--local")
        {
            Description = "No server: lock DIR/NAME.lock for each --path NAME with an OS file lock",
            HelpName = "DIR",
        };
        var commandWords = new Argument<string[]>("command")
        {
            Description = "The command and its arguments (after --); with py-lockable's flags, joined with spaces and run by /bin/sh",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var killGrace = StopTimeline.Option();
        var lockable = new LockableOptions();
        var command = new Command("run", "Acquire a lease, run a command while holding it, release it when the command exits; exits with the command's code");
        selection.AddTo(command);
        command.Add(sessionTtl);
        command.Add(envPrefix);
        command.Add(killGrace);
        command.Add(local);
        command.Add(server);
        command.Add(json);
        lockable.AddTo(command);
        command.Add(commandWords);
        command.SetAction((result, _) =>
        {
            var asJson = result.GetValue(json);
            var words = result.GetValue(commandWords) ?? [];
            return Failures.GuardAsync(asJson, result.GetValue(server)!, () =>
            {
                if (lockable.AnyGiven(result))
                {
                    return LockableMode.RunAsync(lockable, new RunContext(result, selection, local, sessionTtl, envPrefix, killGrace, words, asJson));
                }
                if (words.Length == 0)
                {
                    throw new UsageException("give the command to run (after --)");
                }
                return result.GetValue(local) is { } directory
                    ? RunLocalAsync(result, selection, directory, killGrace, words, asJson)
                    : RunServerAsync(result, selection, server, sessionTtl, envPrefix, killGrace, words, asJson);
            });
        });
        return command;
    }

    private static async Task<int> RunServerAsync(
        ParseResult result, SelectionOptions selection, Option<string> serverOption, Option<TimeSpan?> sessionTtlOption,
        Option<string> envPrefix, Option<TimeSpan?> killGrace, string[] words, bool json)
    {
        var options = selection.Read(result);
        var sessionTtl = result.GetValue(sessionTtlOption) ?? DefaultSessionTtl;
        if (sessionTtl < TimeSpan.FromSeconds(1) || sessionTtl > TimeSpan.FromHours(24))
        {
            throw new UsageException("--session-ttl: between 1 s and 24 h");
        }
        var lifetime = options.Ttl ?? sessionTtl;
        var grace = StopTimeline.LeaseGrace(result.GetValue(killGrace), lifetime);
        var prefix = LeaseEnvironment.CheckPrefix(result.GetValue(envPrefix));
        var servers = CommonOptions.ServerUris(result.GetValue(serverOption)!);
        using var signals = new SignalForwarder();
        using var client = CommonOptions.Client(result, servers, sessionTtl);
        LeaseHandle lease;
        try
        {
            lease = await Acquisition.AcquireAsync(client, options, signals.Interrupted);
        }
        catch (OperationCanceledException) when (signals.Received is { } signal)
        {
            return ExitCodes.Signal(signal);
        }
        await using (lease)
        {
            if (signals.Received is { } early)
            {
                return ExitCodes.Signal(early);
            }
            if (json)
            {
                Console.Error.WriteLine(JsonSerializer.Serialize(lease.Lease with { Token = null }, ProtocolJsonContext.Default.LeaseDto));
            }
            return await ChildRunner.RunAsync(words, LeaseEnvironment.For(lease, prefix, servers), signals,
                StopTimeline.ForLease(lease, lifetime, grace), json);
        }
    }

    private static async Task<int> RunLocalAsync(
        ParseResult result, SelectionOptions selection, string directory, Option<TimeSpan?> killGrace, string[] words, bool json)
    {
        var names = result.GetValue(selection.Paths) ?? [];
        if (names.Length == 0)
        {
            throw new UsageException("--local needs --path NAME (repeatable)");
        }
        if (result.GetValue(selection.Pool) is not null || result.GetValue(selection.Require) is not null || result.GetValue(selection.Limit) is not null)
        {
            throw new UsageException("--local locks names: no --pool, --require or --limit");
        }
        var shared = result.GetValue(selection.Shared);
        var wait = selection.ReadWait(result);
        var ttl = selection.ReadTtl(result);
        var grace = StopTimeline.LocalGrace(result.GetValue(killGrace));
        var what = string.Join(' ', names) + " in " + directory;
        using var signals = new SignalForwarder();
        LocalLock? held;
        var indicator = WaitIndicator.Start(what, wait);
        try
        {
            held = await LocalLock.AcquireAsync(directory, names, shared, wait, signals.Interrupted);
            if (indicator is not null)
            {
                await indicator.StopAsync(granted: held is not null);
            }
        }
        catch (OperationCanceledException) when (signals.Received is { } signal)
        {
            return ExitCodes.Signal(signal);
        }
        finally
        {
            if (indicator is not null)
            {
                await indicator.DisposeAsync();
            }
        }
        if (held is null)
        {
            throw new CliException(ExitCodes.Locked, ErrorCodes.Locked, wait > TimeSpan.Zero
                ? $"{what}: held by another process; not granted within {Durations.Format(wait)}"
                : $"{what}: held by another process");
        }
        using (held)
        {
            if (signals.Received is { } early)
            {
                return ExitCodes.Signal(early);
            }
            var environment = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [LeaseEnvironment.Paths] = string.Join(' ', names),
                [LeaseEnvironment.LockFiles] = string.Join(' ', held.Files),
            };
            if (held.Fence is { } fence)
            {
                environment[LeaseEnvironment.Fence] = fence.ToString(CultureInfo.InvariantCulture);
            }
            if (json)
            {
                Console.Error.WriteLine(Failures.Object(writer =>
                {
                    writer.WriteString("local", Path.GetFullPath(directory));
                    writer.WriteStartArray("paths");
                    names.ToList().ForEach(writer.WriteStringValue);
                    writer.WriteEndArray();
                    writer.WriteStartArray("lockFiles");
                    held.Files.ToList().ForEach(writer.WriteStringValue);
                    writer.WriteEndArray();
                    writer.WriteString("mode", shared ? "shared" : "exclusive");
                    if (held.Fence is { } f)
                    {
                        writer.WriteNumber("fence", f);
                    }
                }));
            }
            using var deadline = ttl is { } limit ? new CancellationTokenSource(limit) : new CancellationTokenSource();
            return await ChildRunner.RunAsync(words, environment, signals, StopTimeline.ForLocal(deadline.Token, ttl, grace), json, held.Handles);
        }
    }
}
