using System.CommandLine;
using Leasehold.Client;

namespace Leasehold.Cli;

/// <summary>Options several commands share; each command gets its own instances.</summary>
internal static class CommonOptions
{
    public const string ServerVariable = "LEASEHOLD_SERVER";
    /// <summary>The client's default: this machine's native port.</summary>
    public const string DefaultServer = LeaseholdClientOptions.DefaultServer;

    /// <summary>
    /// The credential (an API key or a bearer token) comes from the environment only: a value on the command line
    /// would be visible to every user of the machine in the process list and kept in shell history.
    /// </summary>
    public const string ApiKeyVariable = "LEASEHOLD_API_KEY";

    public static Option<string> Server() => new("--server")
    {
        Description = $"The server's URL, or a cluster's nodes' URLs separated by commas (${ServerVariable} when set)",
        HelpName = "URL[,URL...]",
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

    /// <summary>
    /// The server URL from the command line, checked: <c>leasehold://</c> or <c>leaseholds://</c> (the native protocol, its
    /// port 8766 unless given), or <c>http://</c> or <c>https://</c> (a base address that keeps its path).
    /// </summary>
    public static Uri ServerUri(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "leasehold" or "leaseholds"))
        {
            throw new UsageException($"--server: '{text}' is not a leasehold://, leaseholds://, http:// or https:// URL");
        }
        if (uri.Scheme is "leasehold" or "leaseholds")
        {
            return uri.AbsolutePath is "" or "/" && uri.Query.Length == 0
                ? new UriBuilder(uri.Scheme, uri.Host, uri.IsDefaultPort ? Leasehold.Protocol.Native.NativeProtocol.DefaultPort : uri.Port).Uri
                : throw new UsageException($"--server: '{text}' has a path; a native server is leasehold://HOST:PORT");
        }
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/");
    }

    /// <summary>
    /// The servers from the command line (or <c>LEASEHOLD_SERVER</c>): one URL, or a cluster's nodes separated by commas,
    /// each checked as <see cref="ServerUri"/> does. A URL holds no comma that needs no escaping, so a comma always separates.
    /// </summary>
    public static Uri[] ServerUris(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var servers = new Uri[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0)
            {
                throw new UsageException(parts.Length == 1
                    ? "--server: the URL is empty"
                    : $"--server: entry {i + 1} of '{text}' is empty (give URLs separated by single commas)");
            }
            servers[i] = ServerUri(parts[i]);
        }
        return servers;
    }

    /// <summary>The servers as <c>--server</c> and <c>LEASEHOLD_SERVER</c> take them.</summary>
    public static string ServerText(IReadOnlyList<Uri> servers) => string.Join(',', servers);

    public const string CaFileVariable = "LEASEHOLD_CA_FILE";
    public const string ClientCertVariable = "LEASEHOLD_CLIENT_CERT";
    public const string ClientKeyVariable = "LEASEHOLD_CLIENT_KEY";

    private const string CaFileName = "--ca-file";
    private const string ClientCertName = "--client-cert";
    private const string ClientKeyName = "--client-key";

    /// <summary>
    /// The TLS options, on the root command for every command that talks to a server (<c>Recursive</c>): the
    /// authority to trust for an https:// server, and this client's certificate (docs/tls.md).
    /// </summary>
    public static IEnumerable<Option> Tls() =>
    [
        FileOption(CaFileName, CaFileVariable, "PEM file of the authorities an https:// server's certificate must chain to, instead of the system's"),
        FileOption(ClientCertName, ClientCertVariable, "PEM file of this client's certificate, presented when the server asks; the server names the caller after its CN"),
        FileOption(ClientKeyName, ClientKeyVariable, "PEM file of the --client-cert's unencrypted private key [default: in the --client-cert file]"),
    ];

    private static Option<string?> FileOption(string name, string variable, string description) => new(name)
    {
        Description = $"{description} (${variable} when set)",
        HelpName = "FILE",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnv ? fromEnv : null,
    };

    /// <summary>A client of <paramref name="server"/> with the TLS options of <paramref name="result"/>.</summary>
    public static LeaseholdClient Client(ParseResult result, Uri server, TimeSpan? sessionTtl = null) => Client(result, [server], sessionTtl);

    /// <summary>A client of <paramref name="servers"/> (moving from one to the next when one fails) with the TLS options of <paramref name="result"/>.</summary>
    public static LeaseholdClient Client(ParseResult result, IReadOnlyList<Uri> servers, TimeSpan? sessionTtl = null)
    {
        var options = new LeaseholdClientOptions
        {
            Server = servers[0],
            Servers = servers.Count > 1 ? [.. servers] : [],
            ApiKey = Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key.Trim() : null,
            CaFile = result.GetValue<string?>(CaFileName),
            ClientCertificateFile = result.GetValue<string?>(ClientCertName),
            ClientCertificateKeyFile = result.GetValue<string?>(ClientKeyName),
        };
        if (sessionTtl is { } ttl)
        {
            options.SessionTtl = ttl;
        }
        try
        {
            return new LeaseholdClient(options);
        }
        catch (InvalidOperationException ex)
        {
            // The client names its options; here the user gave them as these flags.
            var message = ex.Message
                .Replace(nameof(LeaseholdClientOptions.ClientCertificateKeyFile), ClientKeyName, StringComparison.Ordinal)
                .Replace(nameof(LeaseholdClientOptions.ClientCertificateFile), ClientCertName, StringComparison.Ordinal)
                .Replace(nameof(LeaseholdClientOptions.CaFile), CaFileName, StringComparison.Ordinal);
            throw new UsageException(message);
        }
    }
}
