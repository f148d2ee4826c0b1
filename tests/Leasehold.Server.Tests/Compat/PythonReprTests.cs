using Leasehold.Server.Compat;

namespace Leasehold.Server.Tests.Compat;

/// <summary>Python 2's repr() of a string, which gocept.lockd's fault strings print (<c>%r</c>).</summary>
public sealed class PythonReprTests
{
    [Theory]
    [InlineData("client1", "'client1'")]
    [InlineData("", "''")]
    [InlineData("it's", "\"it's\"")]
    [InlineData("say \"hi\"", "'say \"hi\"'")]
    [InlineData("both ' and \"", "'both \\' and \"'")]
    [InlineData("back\\slash", "'back\\\\slash'")]
    [InlineData("tab\tnew\nret\r", "'tab\\tnew\\nret\\r'")]
    [InlineData("nul\0bell\u0007esc\u001bdel\u007f", "'nul\\x00bell\\x07esc\\x1bdel\\x7f'")]
    [InlineData(" spaced ", "' spaced '")]
    [InlineData("caf\u00e9", "u'caf\\xe9'")]
    [InlineData("\u0080\u00a0\u00ff", "u'\\x80\\xa0\\xff'")]
    [InlineData("\u20ac it's", "u\"\\u20ac it's\"")]
    [InlineData("\U0001f600", "u'\\U0001f600'")]
    public void MatchesPython2(string text, string expected) => Assert.Equal(expected, PythonRepr.Of(text));

    /// <summary>Not as InlineData: a lone surrogate does not survive the test runner's serialization.</summary>
    [Fact]
    public void ALoneSurrogateIsEscaped() => Assert.Equal("u'lone \\ud800'", PythonRepr.Of("lone " + (char)0xd800));

    [Fact]
    public void NoneIsNone() => Assert.Equal("None", PythonRepr.Of(null));

    /// <summary>For ASCII text Python 3's repr is Python 2's: every ASCII character, checked against a real interpreter.</summary>
    [Fact]
    public async Task AsciiAgreesWithPython()
    {
        string[] samples =
        [
            new([.. Enumerable.Range(0, 128).Select(i => (char)i)]),
            "it's", "say \"hi\"", "both ' and \"", "'", "\"", "\\", "'\\'", "plain",
        ];
        var (exitCode, output) = await PythonScript.RunAsync("-c",
            "import sys, json\nfor s in json.loads(sys.argv[1]): print(repr(s))",
            System.Text.Json.JsonSerializer.Serialize(samples));
        Assert.True(exitCode == 0, output);
        Assert.Equal(samples.Select(PythonRepr.Of), output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
