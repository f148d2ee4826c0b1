using System.Text.Json;
using Leasehold.Cli.Lockable;

namespace Leasehold.Cli.Tests.Lockable;

/// <summary>The Python spelling of JSON values in py-lockable's messages and variables; expected texts from CPython 3.12.</summary>
public sealed class PythonReprTests
{
    [Theory]
    [InlineData("1", "1")]
    [InlineData("-0", "0")]
    [InlineData("12345678901234567890", "12345678901234567890")]
    [InlineData("1.0", "1.0")]
    [InlineData("1E2", "100.0")]
    [InlineData("0.1", "0.1")]
    [InlineData("123.456", "123.456")]
    [InlineData("-0.0", "-0.0")]
    [InlineData("1e15", "1000000000000000.0")]
    [InlineData("1e16", "1e+16")]
    [InlineData("1.5e16", "1.5e+16")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.00001", "1e-05")]
    [InlineData("1.7976931348623157e308", "1.7976931348623157e+308")]
    [InlineData("5e-324", "5e-324")]
    [InlineData("true", "True")]
    [InlineData("false", "False")]
    [InlineData("null", "None")]
    [InlineData("\"plain\"", "'plain'")]
    [InlineData("\"it's\"", "\"it's\"")]
    [InlineData("\"say \\\"hi\\\"\"", "'say \"hi\"'")]
    [InlineData("\"a'b\\\"c\"", "'a\\'b\"c'")]
    [InlineData("\"tab\\t nl\\n back\\\\slash \\u0001 \\u007f\"", "'tab\\t nl\\n back\\\\slash \\x01 \\x7f'")]
    [InlineData("\"caf\\u00e9 \\u00a0 \\u200b \\ud83d\\ude00\"", "'café \\xa0 \\u200b 😀'")]
    [InlineData("""{"a": [1, true, null], "b": {"c": "d"}, "e": []}""", "{'a': [1, True, None], 'b': {'c': 'd'}, 'e': []}")]
    [InlineData("""{"a": 1, "b": 2, "a": 3}""", "{'a': 3, 'b': 2}")]
    public void Values_print_as_python_prints_them(string json, string expected)
    {
        using var document = JsonDocument.Parse(json);

        Assert.Equal(expected, PythonRepr.Of(document.RootElement));
    }

    [Fact]
    public void Str_leaves_strings_as_they_are()
    {
        using var document = JsonDocument.Parse("""["it's", true, {"k": 1}]""");
        var items = document.RootElement.EnumerateArray().ToList();

        Assert.Equal(["it's", "True", "{'k': 1}"], items.Select(PythonRepr.Str));
    }

    [Theory]
    [InlineData(1, "Allocation timeout (1s)")]
    [InlineData(0, "Allocation timeout (0s)")]
    [InlineData(2.5, "Allocation timeout (2.5s)")]
    public void The_timeout_message_spells_the_seconds_as_python(double seconds, string expected)
        => Assert.Equal(expected, LockableRequirement.Timeout(TimeSpan.FromSeconds(seconds)));
}
