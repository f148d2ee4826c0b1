using System.Globalization;
using System.Text;
using System.Text.Json;
using Leasehold.Client;

namespace Leasehold.Cli;

/// <summary>The variables the child of <c>run</c> gets on top of the tool's own environment.</summary>
internal static class LeaseEnvironment
{
    public const string LeaseId = "LEASEHOLD_LEASE_ID";
    public const string Token = "LEASEHOLD_TOKEN";
    public const string Fence = "LEASEHOLD_FENCE";
    public const string Paths = "LEASEHOLD_PATHS";
    public const string Server = CommonOptions.ServerVariable;
    public const string LockFiles = "LEASEHOLD_LOCK_FILES";

    /// <summary>
    /// For a server lease: one variable per attribute of the first chosen resource (pool leases), then the
    /// <c>LEASEHOLD_*</c> ones, which win over an attribute of the same name.
    /// </summary>
    public static Dictionary<string, string> For(LeaseHandle lease, string prefix, IReadOnlyList<Uri> servers)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (lease.Resources.Count > 0 && lease.Resources[0].Attributes is { ValueKind: JsonValueKind.Object } attributes)
        {
            foreach (var attribute in attributes.EnumerateObject())
            {
                environment[VariableName(prefix, attribute.Name)] = Value(attribute.Value);
            }
        }
        AddLeaseVariables(environment, lease, servers);
        return environment;
    }

    /// <summary>Sets the <c>LEASEHOLD_*</c> variables of a server lease (replacing any of the same name).</summary>
    public static void AddLeaseVariables(Dictionary<string, string> environment, LeaseHandle lease, Uri server)
        => AddLeaseVariables(environment, lease, [server]);

    /// <summary>
    /// Sets the <c>LEASEHOLD_*</c> variables of a server lease (replacing any of the same name); <c>LEASEHOLD_SERVER</c>
    /// lists every server, so a <c>leasehold</c> command the child runs fails over as this one does.
    /// </summary>
    public static void AddLeaseVariables(Dictionary<string, string> environment, LeaseHandle lease, IReadOnlyList<Uri> servers)
    {
        environment[LeaseId] = lease.Id.ToString(CultureInfo.InvariantCulture);
        environment[Fence] = lease.Fence.ToString(CultureInfo.InvariantCulture);
        environment[Token] = lease.Token;
        environment[Paths] = string.Join(' ', lease.Paths);
        environment[Server] = CommonOptions.ServerText(servers);
    }

    /// <summary><paramref name="prefix"/> + the attribute upper-cased, every character but A-Z, 0-9 and _ made <c>_</c>.</summary>
    public static string VariableName(string prefix, string attribute)
    {
        var name = new StringBuilder(prefix.Length + attribute.Length).Append(prefix);
        foreach (var c in attribute.ToUpperInvariant())
        {
            name.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }
        return name.ToString();
    }

    /// <summary>A string as it is; anything else (number, boolean, null, object, array) as its JSON text.</summary>
    public static string Value(JsonElement value)
        => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    /// <summary>An env prefix must itself be a valid start of a variable name.</summary>
    public static string CheckPrefix(string? prefix)
    {
        prefix ??= "";
        return prefix.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            ? prefix
            : throw new UsageException($"--env-prefix: '{prefix}' may hold only letters, digits and _");
    }
}
