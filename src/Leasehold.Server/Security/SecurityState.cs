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
    private readonly ILogger<SecurityState> _logger;
    private volatile AccessRules _rules;

    public SecurityState(IOptionsMonitor<SecurityOptions> options, bool enabled, ILogger<SecurityState> logger)
    {
        Enabled = enabled;
        _logger = logger;
        _rules = AccessRules.Parse(options.CurrentValue);
        _subscription = options.OnChange(Reload);
    }

    /// <summary>False: every request is allowed, as anonymous (loopback only, or <see cref="SecurityOptions.Open"/>).</summary>
    public bool Enabled { get; }

    public AccessRules Rules => _rules;

    private void Reload(SecurityOptions options)
    {
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
