using System.Text.RegularExpressions;

namespace Leasehold.Core.Query;

/// <summary>
/// Turns a <c>$regex</c> string into a compiled <see cref="Regex"/>, once per query. As in mongoquery,
/// <c>/pattern/flags</c> (flags from <c>imsx</c>, at most four) carries its options, and any other string
/// is the pattern itself. The dialect is .NET's, which agrees with Python's <c>re</c> on ordinary
/// patterns (it lacks <c>(?P&lt;name&gt;…)</c>, and <c>\Z</c> also matches before a final newline).
/// </summary>
internal static class RegexPattern
{
    /// <summary>
    /// A match that runs longer than this is abandoned and counts as no match, so a catastrophically
    /// backtracking pattern sent by a client costs at most this much per attribute set, not a stalled server.
    /// </summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    public static Regex Compile(string text, string op, string where)
    {
        var (pattern, options) = Split(text);
        try
        {
            return new Regex(pattern, options | RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException error)
        {
            throw new QueryCompileException($"{op}: invalid pattern '{text}' at {where}: {error.Message}");
        }
    }

    /// <summary>Whether <paramref name="input"/> contains a match; a timed-out match is no match.</summary>
    public static bool IsMatch(Regex regex, string input)
    {
        try
        {
            return regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    // mongoquery's \A/(.+)/([imsx]{,4})\Z: the greedy (.+) ends at the last '/', since a '/' can never be a flag.
    private static (string Pattern, RegexOptions Options) Split(string text)
    {
        var close = text.LastIndexOf('/');
        if (!text.StartsWith('/') || close < 2 || text.Length - close - 1 > 4)
        {
            return (text, RegexOptions.None);
        }
        var options = RegexOptions.None;
        foreach (var flag in text.AsSpan(close + 1))
        {
            var option = flag switch
            {
                'i' => RegexOptions.IgnoreCase,
                'm' => RegexOptions.Multiline,
                's' => RegexOptions.Singleline,
                'x' => RegexOptions.IgnorePatternWhitespace,
                _ => RegexOptions.None,
            };
            if (option == RegexOptions.None)
            {
                return (text, RegexOptions.None);
            }
            options |= option;
        }
        return (text[1..close], options);
    }
}
