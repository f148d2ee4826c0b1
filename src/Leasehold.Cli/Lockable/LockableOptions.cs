using System.CommandLine;

namespace Leasehold.Cli.Lockable;

/// <summary>
/// py-lockable's <c>lockable</c> flags on <c>run</c> (docs/compat/py-lockable.md). Giving any of them puts
/// <c>run</c> in py-lockable mode; none has a default value of its own, so that "given" can be told apart.
/// </summary>
internal sealed class LockableOptions
{
    public const string DefaultResources = "./resources.json";
    public const string DefaultLockFolder = ".";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);

    public Option<string> Requirements { get; } = new("--requirements")
    {
        Description = "py-lockable mode: the requirement, JSON or k=v&k2=v2, on top of {\"hostname\": HOST, \"online\": true} (null removes those) [default: {}]",
        HelpName = "REQUIREMENTS",
    };

    public Option<string> Resources { get; } = new("--resources")
    {
        Description = "py-lockable mode: a resources.json file (locked locally), or http(s)://SERVER/v1/pools/POOL/resources.json (a Leasehold pool) "
                      + "or another http(s) resource list [default: ./resources.json]",
        HelpName = "FILE_OR_URL",
    };

    public Option<string> LockFolder { get; } = new("--lock-folder")
    {
        Description = "py-lockable mode: where the lock files ID.lock are [default: .]",
        HelpName = "DIR",
    };

    public Option<bool> ValidateOnly { get; } = new("--validate-only")
    {
        Description = "py-lockable mode: check the resources with py-lockable's rules and exit (0 valid, 1 not)",
    };

    public Option<TimeSpan?> Timeout { get; } = Durations.Option("--timeout", "py-lockable mode: how long to keep trying for a free resource [default: 1]");

    public Option<string> Hostname { get; } = new("--hostname")
    {
        Description = "py-lockable mode: the hostname a resource must have unless --requirements says {\"hostname\": null} [default: this machine's]",
        HelpName = "HOST",
    };

    private IEnumerable<Option> All => [Requirements, Resources, LockFolder, ValidateOnly, Timeout, Hostname];

    public void AddTo(Command command)
    {
        foreach (var option in All)
        {
            command.Add(option);
        }
    }

    /// <summary>Whether any py-lockable flag is on the command line.</summary>
    public bool AnyGiven(ParseResult result) => All.Any(option => result.GetResult(option) is { Implicit: false });

    /// <summary>The flags read, with py-lockable's CLI defaults for the ones not given.</summary>
    public LockableSettings Read(ParseResult result)
    {
        // A duration is never negative (no sign is accepted); 0 means one pass, as timeout_s=0 does.
        var timeout = result.GetValue(Timeout) ?? DefaultTimeout;
        var resources = result.GetValue(Resources) ?? DefaultResources;
        return new LockableSettings(
            result.GetValue(Requirements) ?? "",
            ResourceLocation.Parse(resources),
            result.GetValue(LockFolder) ?? DefaultLockFolder,
            result.GetValue(ValidateOnly),
            timeout,
            result.GetValue(Hostname) ?? System.Net.Dns.GetHostName());
    }
}

/// <summary>py-lockable's settings, defaults applied.</summary>
internal sealed record LockableSettings(
    string Requirements, ResourceLocation Resources, string LockFolder, bool ValidateOnly, TimeSpan Timeout, string Hostname);
