namespace Leasehold.Server.Security;

/// <summary>
/// Settings under <c>Leasehold:Security</c> (docs/security.md). Read through <c>IOptionsMonitor</c>: keys,
/// principals and rules apply to the next request after the settings file changes, without a restart.
/// </summary>
public sealed class SecurityOptions
{
    public const string Section = LeaseholdOptions.Section + ":Security";

    /// <summary>
    /// Serve addresses other than loopback without authentication. Without it such a start is refused
    /// (protected mode, as Redis does).
    /// </summary>
    public bool Open { get; set; }

    /// <summary>API keys by id: each a hash of the key, never the key itself.</summary>
    public Dictionary<string, ApiKeyEntry> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A settings file holding more <see cref="ApiKeys"/>, written by <c>leasehold admin keys</c> and re-read when it changes.</summary>
    public string? KeysFile { get; set; }

    public JwtSettings Jwt { get; set; } = new();

    /// <summary>Roles given to principals by name, whatever way they authenticated.</summary>
    public Dictionary<string, PrincipalEntry> Principals { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Who may do what under which prefix. A request is allowed when one rule allows it.</summary>
    public List<AccessRule> Rules { get; set; } = [];
}

/// <summary>One API key: the SHA-256 of the key (<c>sha256:</c> and 64 hex digits) and whose it is.</summary>
public sealed class ApiKeyEntry
{
    public string? Hash { get; set; }

    public string? Principal { get; set; }

    public List<string> Roles { get; set; } = [];

    /// <summary>When the key stops working (UTC); none: never.</summary>
    public DateTimeOffset? Expires { get; set; }

    /// <summary>When <c>leasehold admin keys</c> made the key; for people.</summary>
    public DateTimeOffset? Created { get; set; }
}

public sealed class PrincipalEntry
{
    public List<string> Roles { get; set; } = [];
}

/// <summary>
/// JSON Web Tokens from an identity provider. Either <see cref="Authority"/> (its signing keys are fetched
/// from the provider's metadata) or <see cref="SigningKeyFile"/> (a PEM public key, or a symmetric key).
/// </summary>
public sealed class JwtSettings
{
    public string? Authority { get; set; }

    public string? Audience { get; set; }

    public string? Issuer { get; set; }

    /// <summary>A PEM file with the RSA or EC public key the tokens are signed with.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>The claim that names the principal.</summary>
    public string NameClaim { get; set; } = "sub";

    /// <summary>The claim that lists the principal's roles.</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>Allow an authority reached over plain HTTP (tests and labs only).</summary>
    public bool AllowHttpAuthority { get; set; }

    public bool Configured => !string.IsNullOrEmpty(Authority) || !string.IsNullOrEmpty(SigningKeyFile);
}

/// <summary>
/// A rule: the principals it applies to (<see cref="Who"/>), the subtree (<see cref="Prefix"/>) and the rights.
/// </summary>
public sealed class AccessRule
{
    /// <summary>
    /// Principal names, <c>role:NAME</c>, <c>*</c> (every authenticated principal) or <c>anonymous</c>
    /// (requests without credentials).
    /// </summary>
    public List<string> Who { get; set; } = [];

    /// <summary><c>/ci/**</c>: the path and everything under it; <c>/ci/x</c>: that path alone; <c>/**</c>: everything.</summary>
    public string Prefix { get; set; } = "/**";

    /// <summary><c>read</c>, <c>lock</c>, <c>declare</c>, <c>admin</c>.</summary>
    public List<string> Rights { get; set; } = [];
}
