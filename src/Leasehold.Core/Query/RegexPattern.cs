using System.Text.RegularExpressions;

namespace Leasehold.Core.Query;

/// <summary>
/// Turns a <c>$regex</c> string into a compiled <see cref="Regex"/>, once per query. As in mongoquery,
/// <c>/pattern/flags</c> (flags from <c>imsx</c>, at most four) carries its options, and any other string
/// is the pattern itself. The dialect is .NET's, which agrees with Python's <c>re</c> on ordinary
/// patterns (it lacks <c>(?P&lt;name&gt;…)</c>, and <c>\Z</c> also matches before a final newline), matched by
/// .NET's linear-time engine.
/// </summary>
internal static class RegexPattern
{
    /// <summary>
    /// The longest pattern accepted (the <c>$regex</c> string as given, flags included). Matching time is
    /// linear in the input whatever the pattern, but building the automaton grows with the pattern.
    /// </summary>
    public const int MaxPatternLength = 1000;

    /// <summary>
    /// Compiles with <see cref="RegexOptions.NonBacktracking"/>: a match takes time linear in the input, so
    /// no time budget is needed and the answer never depends on load (the engine must decide the same way
    /// on every run). Constructs that engine lacks (backreferences, lookarounds, atomic groups,
    /// conditionals, <c>\G</c>) and automata over its size limit are refused here, when the request arrives.
    /// </summary>
    public static Regex Compile(string text, string op, string where)
    {
        if (text.Length > MaxPatternLength)
        {
            throw new QueryCompileException($"{op}: the pattern at {where} has {text.Length} characters; at most {MaxPatternLength}");
        }
        var (pattern, options) = Split(text);
        try
        {
            return new Regex(pattern, options | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, Regex.InfiniteMatchTimeout);
        }
        catch (ArgumentException error)
        {
            throw new QueryCompileException($"{op}: invalid pattern '{text}' at {where}: {error.Message}");
        }
        catch (NotSupportedException error)
        {
            throw new QueryCompileException(
                $"{op}: pattern '{text}' at {where} is not supported (patterns match in linear time, without backreferences, "
                + $"lookarounds, atomic groups, conditionals or \\G): {error.Message}");
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
