using Microsoft.Extensions.Options;

namespace Leasehold.Server.Security;

/// <summary>
/// Whether security is on (decided at start-up: some way to authenticate is configured) and the rules in
/// force, re-parsed when the settings change. A reload with a malformed rule keeps the rules before it and
/// logs why, rather than opening or closing everything.
/// </summary>
public sealed class SecurityState : IDisposable
{
    private readonly IDisposable? _subscription;
    private readonly ILogger _logger;
    private readonly Lock _reload = new();
    private volatile AccessRules _rules;
    private Dictionary<string, string?> _keys;

    public SecurityState(IOptionsMonitor<SecurityOptions> options, bool enabled, ILoggerFactory loggers)
    {
        Enabled = enabled;
        // Key and rule changes are security events: the audit trail's category.
        _logger = Http.AuditLog.Create(loggers);
        _rules = AccessRules.Parse(options.CurrentValue);
        _keys = KeyHashes(options.CurrentValue);
        _subscription = options.OnChange(Reload);
    }

    /// <summary>False: every request is allowed, as anonymous (loopback only, or <see cref="SecurityOptions.Open"/>).</summary>
    public bool Enabled { get; }

    public AccessRules Rules => _rules;

    private static Dictionary<string, string?> KeyHashes(SecurityOptions options) =>
        options.ApiKeys.ToDictionary(k => k.Key, k => (string?)(k.Value.Hash + "|" + k.Value.Principal), StringComparer.Ordinal);

    private void Reload(SecurityOptions options)
    {
        var keys = KeyHashes(options);
        // Change notifications may overlap: the key list compared against must be the one before this change.
        lock (_reload)
        {
            var added = keys.Keys.Where(id => !_keys.ContainsKey(id)).ToList();
            var removed = _keys.Keys.Where(id => !keys.ContainsKey(id)).ToList();
            var changed = keys.Where(k => _keys.TryGetValue(k.Key, out var before) && before != k.Value).Select(k => k.Key).ToList();
            if (added.Count + removed.Count + changed.Count > 0)
            {
                _logger.LogWarning("API keys changed: added {Added}; removed {Removed}; rotated or reassigned {Changed}",
                    added.Count == 0 ? "none" : string.Join(", ", added),
                    removed.Count == 0 ? "none" : string.Join(", ", removed),
                    changed.Count == 0 ? "none" : string.Join(", ", changed));
            }
            _keys = keys;
        }
        try
        {
            _rules = AccessRules.Parse(options);
            _logger.LogInformation("Security settings reloaded: {Rules} rules, {Keys} API keys", options.Rules.Count, options.ApiKeys.Count);
        }
        catch (InvalidDataException ex)
        {
            _logger.LogError("Security settings not reloaded, the rules before stay in force: {Reason}", ex.Message);
        }
    }

    public void Dispose() => _subscription?.Dispose();
}
