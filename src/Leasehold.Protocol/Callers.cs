namespace Leasehold.Protocol;

/// <summary>Who the server takes the caller to be (<c>GET /v1/whoami</c>).</summary>
public sealed record WhoAmIDto
{
    /// <summary>The authenticated principal's name; null for an anonymous caller.</summary>
    public string? Name { get; init; }

    /// <summary>How the caller was authenticated (<c>Certificate</c> for a TLS client certificate); null when anonymous.</summary>
    public string? AuthenticationType { get; init; }
}
