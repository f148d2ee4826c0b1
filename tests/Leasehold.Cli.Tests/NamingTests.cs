using System.Text.Json;
using Leasehold.Cli.Commands;

namespace Leasehold.Cli.Tests;

/// <summary>The small pure rules, in process: variable names and values, shell quoting, durations.</summary>
public sealed class NamingTests
{
    [Theory]
    [InlineData("", "id", "ID")]
    [InlineData("R_", "hostname", "R_HOSTNAME")]
    [InlineData("", "my-attr.x", "MY_ATTR_X")]
    [InlineData("LAB_", "café", "LAB_CAF_")]
    public void Attribute_variable_names(string prefix, string attribute, string expected)
        => Assert.Equal(expected, LeaseEnvironment.VariableName(prefix, attribute));

    [Theory]
    [InlineData("\"phone-7\"", "phone-7")]
    [InlineData("true", "true")]
    [InlineData("1.5", "1.5")]
    [InlineData("null", "null")]
    [InlineData("{\"rack\": 2}", "{\"rack\": 2}")]
    [InlineData("[\"5g\"]", "[\"5g\"]")]
    public void Attribute_values_are_strings_as_they_are_and_json_text_otherwise(string json, string expected)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Equal(expected, LeaseEnvironment.Value(document.RootElement));
    }

    [Theory]
    [InlineData("/lab/phone-7", "/lab/phone-7")]
    [InlineData("/a b", "'/a b'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("", "''")]
    public void Shell_quoting(string value, string expected) => Assert.Equal(expected, LockCommand.Quote(value));

    [Theory]
    [InlineData("30", 30)]
    [InlineData("1.5", 1.5)]
    [InlineData("500ms", 0.5)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    public void Durations_in_seconds_or_with_a_unit(string text, double seconds)
    {
        Assert.True(Durations.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1")]
    [InlineData("1e400")]
    [InlineData("")]
    public void Not_durations(string text) => Assert.False(Durations.TryParse(text, out _));
}
