using System.Globalization;
using System.Text.Json;
using Leasehold.Core.Query;
using Leasehold.Protocol;

namespace Leasehold.Cli.Lockable;

/// <summary>
/// <c>--requirements</c> read as py-lockable reads it (<see cref="RequirementText"/>), with its defaults
/// <c>{"hostname": HOST, "online": true}</c> applied (<see cref="LockableDefaults"/>), compiled once.
/// </summary>
internal sealed record LockableRequirement(JsonElement Merged, Requirement Compiled)
{
    /// <summary>py-lockable's ResourceNotFound text: <c>requirements=</c> and the merged dict as Python prints it.</summary>
    public string NotAvailable => $"Suitable resource not available, requirements={PythonRepr.Of(Merged)}";

    /// <summary>A malformed text is a usage error (64); a query that does not compile is refused like the server's (1).</summary>
    public static LockableRequirement Build(string text, string hostname)
    {
        if (!RequirementText.TryParse(text, out var query, out var error))
        {
            throw new UsageException($"--requirements: {error}");
        }
        if (query.ValueKind != JsonValueKind.Object)
        {
            throw new UsageException($"--requirements: must be a JSON object or k=v&k2=v2, not {query.ValueKind.ToString().ToLowerInvariant()}");
        }
        var merged = LockableDefaults.Apply(query, hostname);
        return Requirement.TryCompile(merged, out var compiled, out error)
            ? new LockableRequirement(merged, compiled)
            : throw new CliException(ExitCodes.Error, ErrorCodes.InvalidQuery, $"--requirements: {error}");
    }

    /// <summary>py-lockable's TimeoutError text: <c>Allocation timeout (1s)</c>, the seconds as a Python number.</summary>
    public static string Timeout(TimeSpan timeout)
    {
        var seconds = timeout.TotalSeconds;
        return "Allocation timeout ("
               + (seconds == Math.Floor(seconds) ? ((long)seconds).ToString(CultureInfo.InvariantCulture) : PythonRepr.Float(seconds))
               + "s)";
    }
}
