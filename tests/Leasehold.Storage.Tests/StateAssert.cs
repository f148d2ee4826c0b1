using System.Globalization;
using System.Reflection;
using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Compares two engine states field by field. Every public property of <see cref="Session"/>,
/// <see cref="Lease"/> and <see cref="Waiter"/> is compared (found by reflection, so a field added later is
/// compared too); lists are compared in order, so the queue's order matters.
/// </summary>
public static class StateAssert
{
    public static void Equal(EngineState expected, EngineState actual)
    {
        Assert.Equal(expected.LastLeaseId, actual.LastLeaseId);
        Assert.Equal(expected.LastSessionId, actual.LastSessionId);
        Assert.Equal(expected.LastWaiterId, actual.LastWaiterId);
        Assert.Equal(expected.LastFence, actual.LastFence);
        Assert.Equal(expected.Sessions.Select(Describe), actual.Sessions.Select(Describe));
        Assert.Equal(expected.Leases.Select(Describe), actual.Leases.Select(Describe));
        Assert.Equal(expected.Waiters.Select(Describe), actual.Waiters.Select(Describe));
    }

    /// <summary>"Type{Name=value, ...}" over every public instance property, in name order.</summary>
    public static string Describe(object item)
    {
        var properties = item.GetType()
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToArray();
        Assert.NotEmpty(properties);
        var fields = properties.Select(p => $"{p.Name}={Format(p.GetValue(item))}");
        return $"{item.GetType().Name}{{{string.Join(", ", fields)}}}";
    }

    private static string Format(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s + "\"",
        ResourcePath[] paths => "[" + string.Join(" ", paths.Select(p => p.Value)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
