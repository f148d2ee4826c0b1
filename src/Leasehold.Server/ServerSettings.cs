using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Leasehold.Server.Compat;
using Leasehold.Server.Compat.IdServer;
using Leasehold.Server.Pools;

namespace Leasehold.Server;

/// <summary>One setting under <c>Leasehold:</c>: its key (<c>N</c> stands for a pool's index), default and meaning.</summary>
public sealed record SettingInfo(string Key, string Default, string Meaning);

/// <summary>
/// Every setting the server reads under <c>Leasehold:</c>, in one table: the unknown-key check, the start-up
/// line of non-default settings and <c>leasehold serve --help</c> all read it, so none of them can drift from
/// the options classes (the <see cref="LeaseholdOptions"/> and <see cref="PoolOptions"/> rows come from the
/// classes themselves).
/// </summary>
public static partial class ServerSettings
{
    public const string PoolIndex = "N";

    private const string PoolsPrefix = LeaseholdOptions.Section + ":Pools:";

    private const string Sec = Security.SecurityOptions.Section;

    public static IReadOnlyList<SettingInfo> All { get; } = Build();

    private static List<SettingInfo> Build()
    {
        var defaults = new LeaseholdOptions();
        var rows = new List<SettingInfo>();
        foreach (var property in typeof(LeaseholdOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var value = property.GetValue(defaults);
            var shown = property.Name == nameof(LeaseholdOptions.MaxConnections) ? "from the descriptor limit" : Show(value);
            rows.Add(new SettingInfo($"{LeaseholdOptions.Section}:{property.Name}", shown, Describe(property)));
        }
        var limits = new Limits.LimitsOptions();
        foreach (var property in typeof(Limits.LimitsOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var value = property.GetValue(limits);
            var shown = value is null
                ? $"{Show(property.Name == nameof(Limits.LimitsOptions.MaxPendingPerPrincipal) ? Limits.LimitsOptions.SecuredMaxPending : Limits.LimitsOptions.SecuredRequestsPerSecond)} with security on, else 0"
                : Show(value);
            rows.Add(new SettingInfo($"{Limits.LimitsOptions.Section}:{property.Name}", shown, Describe(property)));
        }
        foreach (var property in typeof(PoolOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            rows.Add(new SettingInfo($"{PoolsPrefix}{PoolIndex}:{property.Name}", "none", Describe(property)));
        }
        var tls = new Tls.TlsOptions();
        foreach (var property in typeof(Tls.TlsOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            rows.Add(new SettingInfo($"{Tls.TlsOptions.Section}:{property.Name}", Show(property.GetValue(tls)), Describe(property)));
        }
        var events = new Events.EventOptions();
        foreach (var property in typeof(Events.EventOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            rows.Add(new SettingInfo($"{Events.EventOptions.Section}:{property.Name}", Show(property.GetValue(events)), Describe(property)));
        }
        var native = new Native.NativeOptions();
        foreach (var property in typeof(Native.NativeOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var shown = property.Name == nameof(Native.NativeOptions.Port) ? "HTTP's port + 1 (8766)" : Show(property.GetValue(native));
            rows.Add(new SettingInfo($"{Native.NativeOptions.Section}:{property.Name}", shown, Describe(property)));
        }
        var cluster = new Cluster.ClusterOptions();
        foreach (var property in typeof(Cluster.ClusterOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var list = property.PropertyType == typeof(List<string>);
            rows.Add(new SettingInfo($"{Cluster.ClusterOptions.Section}:{property.Name}{(list ? ":M" : "")}", list ? "none" : Show(property.GetValue(cluster)), Describe(property)));
        }
        // The idserver and compatibility settings are read key by key where they are used; their defaults are those constants.
        rows.AddRange(
        [
            new($"{IdServerSettings.Section}:Pool", "none", "the id pool (one of the Pools) the idserver front-end serves; unset: the front-end is off"),
            new($"{IdServerSettings.Section}:Port", Show(IdServerSettings.DefaultPort), "the idserver UDP and TCP port; 0 picks a free port"),
            new($"{IdServerSettings.Section}:Host", IdServerSettings.DefaultHost, "the idserver address; '::' or '*' for every address"),
            new($"{IdServerSettings.Section}:MaxConnections", "from the descriptor limit", "idserver TCP connections open at once"),
            new($"{IdServerSettings.Section}:IdleSeconds", Show(IdServerSettings.DefaultIdleSeconds), "an idserver TCP connection silent this long is closed"),
            new(LockerEndpoints.EnabledKey, "true", "Locker's /canhaz, /nowant, /dohaz"),
            new(LockdEndpoints.EnabledKey, "true", "gocept.lockd's XML-RPC at POST / and /RPC2"),
            new(LockdEndpoints.PrefixKey, LockdEndpoints.DefaultPrefix, "the path under which lockd's resource names live"),
            new(Dashboard.DashboardFiles.EnabledKey, "true", "the web dashboard at / (docs/dashboard.md)"),
            new(Security.FrontEndPrincipal.KeyFor(LockerEndpoints.Section), "none", "with security on: the principal Locker's clients act as; none: Locker is off"),
            new(Security.FrontEndPrincipal.KeyFor(LockdEndpoints.Section), "none", "with security on: the principal lockd's clients act as; none: lockd is off"),
            new(Security.FrontEndPrincipal.KeyFor(IdServerSettings.Section), "none", "with security on: the principal idserver's clients act as; none: idserver is off"),
            new($"{Sec}:Open", "false", "serve addresses other than loopback without authentication (--open)"),
            new($"{Sec}:KeysFile", "none", "a settings file of API keys written by 'leasehold admin keys'; re-read when it changes"),
            new($"{Sec}:ApiKeys:ID:Hash", "none", "an API key's hash, sha256:HEX (never the key)"),
            new($"{Sec}:ApiKeys:ID:Principal", "none", "the principal the key authenticates"),
            new($"{Sec}:ApiKeys:ID:Roles:M", "none", "roles the key gives"),
            new($"{Sec}:ApiKeys:ID:Expires", "none", "when the key stops working (UTC)"),
            new($"{Sec}:ApiKeys:ID:Created", "none", "when the key was made, for people"),
            new($"{Sec}:Jwt:Authority", "none", "the identity provider whose signed tokens are accepted (its keys from its metadata)"),
            new($"{Sec}:Jwt:SigningKeyFile", "none", "instead of Authority: a PEM RSA or EC public key that signs the tokens"),
            new($"{Sec}:Jwt:Audience", "none", "the audience tokens must name; none: not checked"),
            new($"{Sec}:Jwt:Issuer", "none", "the issuer tokens must name; none: not checked"),
            new($"{Sec}:Jwt:NameClaim", "sub", "the claim that names the principal"),
            new($"{Sec}:Jwt:RoleClaim", "roles", "the claim that lists the principal's roles"),
            new($"{Sec}:Jwt:AllowHttpAuthority", "false", "allow an Authority over plain HTTP (tests and labs only)"),
            new($"{Sec}:Principals:NAME:Roles:M", "none", "roles given to a principal however it authenticates"),
            new($"{Sec}:Rules:N:Who:M", "none", "whom a rule applies to: a principal name, role:NAME, * (any authenticated) or anonymous"),
            new($"{Sec}:Rules:N:Prefix", "/**", "where it applies: /ci/** (the subtree) or /ci/x (that path)"),
            new($"{Sec}:Rules:N:Rights:M", "none", "read, lock, declare or admin (admin includes the others)"),
        ]);
        return rows;
    }

    private static string Describe(PropertyInfo property) =>
        property.GetCustomAttribute<DescriptionAttribute>()?.Description
        ?? throw new InvalidOperationException($"{property.DeclaringType?.Name}.{property.Name} has no [Description] for the settings table");

    private static string Show(object? value) => value switch
    {
        null => "none",
        bool b => b ? "true" : "false",
        Enum e => e.ToString().ToLowerInvariant(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "none",
    };

    /// <summary>The table's key for a configured key: a pool's index becomes <see cref="PoolIndex"/>.</summary>
    private static string Generalize(string key)
    {
        key = PoolIndexPattern().Replace(key, $"{PoolsPrefix}{PoolIndex}:");
        // Named and numbered entries of the security settings: a key id, a principal, a rule, a list item.
        key = SecurityEntryPattern().Replace(key, m => $"{Sec}:{m.Groups[1].Value}:{m.Groups[1].Value.ToUpperInvariant() switch
        {
            "RULES" => "N",
            "APIKEYS" => "ID",
            _ => "NAME",
        }}:");
        return key.StartsWith(Sec + ":", StringComparison.OrdinalIgnoreCase) || key.StartsWith(Cluster.ClusterOptions.Section + ":", StringComparison.OrdinalIgnoreCase)
            ? ListItemPattern().Replace(key, ":M")
            : key;
    }

    [GeneratedRegex(@"^Leasehold:Security:(ApiKeys|Principals|Rules):[^:]+:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecurityEntryPattern();

    [GeneratedRegex(@":\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex ListItemPattern();

    [GeneratedRegex(@"^Leasehold:Pools:\d+:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PoolIndexPattern();

    /// <summary>
    /// Keys with a value under <c>Leasehold:</c> that no setting reads, each with the likely intended key when
    /// one is close: a misspelt key would otherwise be ignored without a word.
    /// </summary>
    public static IReadOnlyList<(string Key, string? Suggestion)> FindUnknown(IConfiguration configuration)
    {
        var known = All.Select(s => s.Key).ToArray();
        var unknown = new List<(string, string?)>();
        foreach (var (key, value) in configuration.GetSection(LeaseholdOptions.Section).AsEnumerable())
        {
            if (value is null)
            {
                continue;
            }
            var general = Generalize(key);
            if (known.Contains(general, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }
            var closest = known.MinBy(k => Distance(k, general));
            var pool = PoolIndexPattern().Match(key);
            var suggestion = closest is not null && Distance(closest, general) <= Math.Max(2, LastSegment(general).Length / 3)
                ? closest.Replace($"{PoolsPrefix}{PoolIndex}:", pool.Success ? pool.Value : $"{PoolsPrefix}0:", StringComparison.Ordinal)
                : null;
            unknown.Add((key, suggestion));
        }
        unknown.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return unknown;
    }

    /// <summary>The settings configured to something else than their default, as <c>key=value</c>.</summary>
    public static IReadOnlyList<string> NonDefault(IConfiguration configuration)
    {
        var defaults = All.ToDictionary(s => s.Key, s => s.Default, StringComparer.OrdinalIgnoreCase);
        var changed = new List<string>();
        foreach (var (key, value) in configuration.GetSection(LeaseholdOptions.Section).AsEnumerable())
        {
            if (value is null || !defaults.TryGetValue(Generalize(key), out var standard))
            {
                continue;
            }
            if (!SameValue(value, standard))
            {
                changed.Add($"{key}={value}");
            }
        }
        changed.Sort(StringComparer.Ordinal);
        return changed;
    }

    private static bool SameValue(string value, string standard) =>
        value.Equals(standard, StringComparison.OrdinalIgnoreCase)
        || (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var a)
            && double.TryParse(standard, NumberStyles.Float, CultureInfo.InvariantCulture, out var b)
            && a == b);

    private static string LastSegment(string key) => key[(key.LastIndexOf(':') + 1)..];

    /// <summary>Edit distance, case-insensitive: the configuration's keys are.</summary>
    private static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>The table as text for <c>leasehold serve --help</c>: key, default, meaning.</summary>
    public static string Describe()
    {
        var width = All.Max(s => s.Key.Length);
        var lines = All.Select(s => $"  {s.Key.PadRight(width)}  {s.Meaning} (default: {s.Default})");
        return string.Join(Environment.NewLine, lines);
    }
}
