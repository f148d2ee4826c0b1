using System.Text.Json;
using Leasehold.Core.Query;

namespace Leasehold.Core.Tests.Query;

/// <summary>py-lockable's requirement text: JSON when it starts with '{', else the k=v&amp;k2=v2 shorthand.</summary>
public class RequirementTextTests
{
    [Theory]
    [InlineData("", """{}""")]
    [InlineData("   ", """{}""")]
    [InlineData("{}", """{}""")]
    [InlineData("""  {"a": {"$gt": 1}}  """, """{"a":{"$gt":1}}""")]
    [InlineData("{\n  \"a\": 1,\n  \"b\": [true]\n}", """{"a":1,"b":[true]}""")]
    // JSON keeps dotted keys as they are: they are paths to the matcher, not nesting.
    [InlineData("""{"a.b": "1"}""", """{"a.b":"1"}""")]
    [InlineData("a=b", """{"a":"b"}""")]
    [InlineData("  a=b  ", """{"a":"b"}""")]
    [InlineData("a=b&c=d", """{"a":"b","c":"d"}""")]
    // true/false in any case become booleans; every other value stays a string.
    [InlineData("a=true", """{"a":true}""")]
    [InlineData("a=False", """{"a":false}""")]
    [InlineData("a=TRUE&b=fAlSe", """{"a":true,"b":false}""")]
    [InlineData("n=1", """{"n":"1"}""")]
    [InlineData("n=null", """{"n":"null"}""")]
    [InlineData("n=1.5&m=[1]", """{"n":"1.5","m":"[1]"}""")]
    [InlineData("a=yes", """{"a":"yes"}""")]
    // Nothing is trimmed inside the shorthand, and an empty key is allowed, as in Python.
    [InlineData("a = b", """{"a ":" b"}""")]
    [InlineData("=b", """{"":"b"}""")]
    // A repeated key keeps its last value, in its first place.
    [InlineData("a=1&b=2&a=3", """{"a":"3","b":"2"}""")]
    // Dotted keys become nested objects, merged with each other.
    [InlineData("a.b=1", """{"a":{"b":"1"}}""")]
    [InlineData("hw.cpu=arm&hw.ram=8&os=linux", """{"hw":{"cpu":"arm","ram":"8"},"os":"linux"}""")]
    [InlineData("a.b.c=true", """{"a":{"b":{"c":true}}}""")]
    // A later plain key replaces an earlier nested object, as Python's assignment does.
    [InlineData("a.b=1&a=2", """{"a":"2"}""")]
    [InlineData("name=é&x=<>", """{"name":"é","x":"<>"}""")]
    public void Parses(string text, string expected)
    {
        Assert.True(RequirementText.TryParse(text, out var query, out var error), error);
        Assert.Equal("", error);
        Assert.Equal(JsonValueKind.Object, query.ValueKind);
        Assert.True(Requirement.TryCompile(query, out var requirement, out error), error);
        Assert.Equal(expected, requirement.Text);
    }

    [Theory]
    [InlineData("a", "Missing value (a)")]
    [InlineData("a=", "Missing value (a=)")]
    [InlineData("a=b&c", "Missing value (c)")]
    [InlineData("a=b&", "Missing value ()")]
    [InlineData("a=b&&c=d", "Missing value ()")]
    [InlineData("a=b=c", "Too many '=' in (a=b=c)")]
    [InlineData("a==", "Too many '=' in (a==)")]
    [InlineData(".a=1", "Invalid key format: .a")]
    [InlineData("a.=1", "Invalid key format: a.")]
    [InlineData("a..b=1", "Invalid key format: a..b")]
    [InlineData("x=1&a..b=1", "Invalid key format: a..b")]
    [InlineData("a=2&a.b=1", "Conflicting key: a.b (a already has a value)")]
    public void Refuses_malformed_shorthand(string text, string expected)
    {
        Assert.False(RequirementText.TryParse(text, out _, out var error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{a: 1}")]
    [InlineData("""{"a": 1,}""")]
    [InlineData("""{"a": 1} x""")]
    public void Refuses_malformed_json(string text)
    {
        Assert.False(RequirementText.TryParse(text, out _, out var error));
        Assert.StartsWith("Invalid JSON: ", error, StringComparison.Ordinal);
    }

    [Theory]
    // Shorthand values are strings: n=1 matches the string "1", never the number 1.
    [InlineData("n=1", """{"n": "1"}""", true)]
    [InlineData("n=1", """{"n": 1}""", false)]
    [InlineData("online=true", """{"online": true}""", true)]
    [InlineData("online=true", """{"online": "true"}""", false)]
    [InlineData("online=true", """{"online": 1}""", true)]
    [InlineData("hw.cpu=arm", """{"hw": {"cpu": "arm", "ram": 8}}""", true)]
    [InlineData("hw.cpu=arm", """{"hw": {"cpu": "x86"}}""", false)]
    [InlineData("tags=gpu", """{"tags": ["cpu", "gpu"]}""", true)]
    public void Shorthand_queries_match_as_py_lockable_does(string text, string attributes, bool expected)
    {
        Assert.True(RequirementText.TryParse(text, out var query, out var error), error);
        Assert.True(Requirement.TryCompile(query, out var requirement, out error), error);
        Assert.Equal(expected, requirement.Matches(QueryAssert.Json(attributes)));
    }

    [Fact]
    public void Null_text_is_no_requirements()
    {
        Assert.True(RequirementText.TryParse(null, out var query, out _));
        Assert.Equal(JsonValueKind.Object, query.ValueKind);
        Assert.Empty(query.EnumerateObject());
    }
}
