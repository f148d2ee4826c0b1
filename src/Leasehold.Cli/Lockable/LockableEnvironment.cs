using System.Text.Json;

namespace Leasehold.Cli.Lockable;

/// <summary>
/// The child's variables in py-lockable mode: one per field of the chosen resource, named as in the rest
/// of <c>run</c> (<see cref="LeaseEnvironment.VariableName"/>: upper-cased, other characters than A-Z, 0-9
/// and _ made _) and spelled as py-lockable spells them, <c>str(value)</c>: strings as they are, and
/// <c>True</c>, <c>False</c>, <c>None</c>, <c>1.5</c>, <c>{'rack': 2}</c> for the rest.
/// </summary>
internal static class LockableEnvironment
{
    /// <param name="resource">The resource's fields (a JSON object).</param>
    /// <param name="prefix">The <c>--env-prefix</c>.</param>
    /// <param name="fallbackId">The id when the fields have none (a Leasehold pool resource is named by its path's last segment).</param>
    public static Dictionary<string, string> Attributes(JsonElement resource, string prefix, string? fallbackId = null)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (fallbackId is not null)
        {
            environment[LeaseEnvironment.VariableName(prefix, "id")] = fallbackId;
        }
        if (resource.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in resource.EnumerateObject())
            {
                if (field.Name != "id" || field.Value.ValueKind != JsonValueKind.Null || fallbackId is null)
                {
                    environment[LeaseEnvironment.VariableName(prefix, field.Name)] = PythonRepr.Str(field.Value);
                }
            }
        }
        return environment;
    }
}
