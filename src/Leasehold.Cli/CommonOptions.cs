using System.CommandLine;
using Leasehold.Client;

namespace Leasehold.Cli;

/// <summary>Options several commands share; each command gets its own instances.</summary>
internal static class CommonOptions
{
    public const string ServerVariable = "LEASEHOLD_SERVER";
    public const string DefaultServer = "http://127.0.0.1:8765";

    /// <summary>
    /// The credential (an API key or a bearer token) comes from the environment only: a value on the command line
    /// would be visible to every user of the machine in the process list and kept in shell history.
    /// </summary>
    public const string ApiKeyVariable = "LEASEHOLD_API_KEY";

    public static Option<string> Server() => new("--server")
    {
        Description = $"The server's URL (${ServerVariable} when set)",
        HelpName = "URL",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } fromEnv ? fromEnv : DefaultServer,
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Machine-readable output (and errors as one JSON object on standard error)",
    };

    public static string DefaultOwner => $"{Environment.UserName}@{Environment.MachineName}";

    public static Option<string> Owner() => new("--owner")
    {
        Description = "Who holds the lease, for people",
        HelpName = "NAME",
        DefaultValueFactory = _ => DefaultOwner,
    };

    /// <summary>The server URL from the command line, checked; a base address that keeps its path.</summary>
    public static Uri ServerUri(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--server: '{text}' is not an http:// or https:// URL");
        }
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/");
    }

    public static LeaseholdClient Client(Uri server, TimeSpan? sessionTtl = null)
    {
        var options = new LeaseholdClientOptions
        {
            Server = server,
            ApiKey = Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key.Trim() : null,
        };
        if (sessionTtl is { } ttl)
        {
            options.SessionTtl = ttl;
        }
        return new LeaseholdClient(options);
    }
}
