using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Leasehold.Cli;

/// <summary>Durations on the command line: seconds (<c>30</c>, <c>1.5</c>) or with a unit (<c>500ms</c>, <c>30s</c>, <c>10m</c>, <c>2h</c>).</summary>
internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            || double.IsNaN(value) || double.IsInfinity(value) || value * scale > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }
        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }

    /// <summary>An option taking a duration; absent gives null (callers apply their default).</summary>
    public static Option<TimeSpan?> Option(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "SECONDS",
        CustomParser = result => Parse(result, name),
    };

    private static TimeSpan? Parse(ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }
        var text = result.Tokens[^1].Value;
        if (TryParse(text, out var duration))
        {
            return duration;
        }
        result.AddError($"{name}: '{text}' is not a duration (seconds, or a number with ms, s, m or h)");
        return null;
    }

    /// <summary>Seconds for people: <c>1.5 s</c>, <c>30 s</c>.</summary>
    public static string Format(TimeSpan duration)
        => duration.TotalSeconds.ToString(duration.TotalSeconds < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " s";
}
