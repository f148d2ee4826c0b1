using System.Diagnostics;
using System.Text.Json;
using Leasehold.Core.Query;

namespace Leasehold.Core.Tests.Query;

/// <summary>The compiled object itself: its text, the empty query, reuse, and independence from the input.</summary>
public class RequirementTests
{
    [Fact]
    public void Any_is_the_empty_query_and_matches_everything()
    {
        Assert.Equal("{}", Requirement.Any.Text);
        Assert.True(Requirement.Any.Matches(QueryAssert.Json("""{"a": 1}""")));
        Assert.True(Requirement.Any.Matches(QueryAssert.Json("""{}""")));
    }

    [Fact]
    public void Text_is_compact_json_in_the_original_key_order()
    {
        var requirement = QueryAssert.Compile("""{ "b" : 1 ,  "a" : { "$in" : [ 1.50, "x" ] }, "host": "häst" }""");
        Assert.Equal("""{"b":1,"a":{"$in":[1.50,"x"]},"host":"häst"}""", requirement.Text);
        Assert.Equal(requirement.Text, requirement.ToString());
    }

    [Fact]
    public void A_failed_compile_leaves_a_usable_default_and_an_error()
    {
        Assert.False(Requirement.TryCompile(QueryAssert.Json("""{"$foo": 1}"""), out var requirement, out var error));
        Assert.Same(Requirement.Any, requirement);
        Assert.NotEqual("", error);
    }

    [Fact]
    public void An_undefined_element_is_refused_not_thrown()
    {
        Assert.False(Requirement.TryCompile(default, out _, out var error));
        Assert.Equal("a query must be a JSON object, not nothing", error);
    }

    [Fact]
    public void The_compiled_query_outlives_its_document()
    {
        Requirement requirement;
        using (var document = JsonDocument.Parse("""{"os": "linux", "tags": {"$in": ["a", [1]]}, "n": {"$gt": 2}}"""))
        {
            Assert.True(Requirement.TryCompile(document.RootElement, out requirement, out var error), error);
        }
        Assert.True(requirement.Matches(QueryAssert.Json("""{"os": "linux", "tags": [[1]], "n": 3}""")));
        Assert.False(requirement.Matches(QueryAssert.Json("""{"os": "linux", "tags": ["b"], "n": 3}""")));
    }

    [Fact]
    public void One_compiled_query_answers_many_attribute_sets()
    {
        var requirement = QueryAssert.Compile("""{"ram": {"$gte": 8}, "tags": "gpu"}""");
        var results = new[]
        {
            """{"ram": 16, "tags": ["gpu"]}""",
            """{"ram": 4, "tags": ["gpu"]}""",
            """{"ram": 8, "tags": "gpu"}""",
            """{"ram": 8, "tags": []}""",
        }.Select(attributes => requirement.Matches(QueryAssert.Json(attributes)));
        Assert.Equal([true, false, true, false], results);
    }

    [Fact]
    public void Attributes_that_are_not_an_object_simply_do_not_match_fields()
    {
        var requirement = QueryAssert.Compile("""{"a": 1}""");
        Assert.False(requirement.Matches(QueryAssert.Json("1")));
        Assert.False(requirement.Matches(QueryAssert.Json("null")));
        Assert.False(requirement.Matches(default));
    }

    [Theory]
    [InlineData("""{"a": "\ud800"}""")]
    [InlineData("""{"\ud800": 1}""")]
    [InlineData("""{"a": {"$gt": "\udc00x"}}""")]
    [InlineData("""{"$comment": "\ud800"}""")]
    public void A_query_with_an_undecodable_string_is_refused_not_thrown(string query)
    {
        Assert.False(Requirement.TryCompile(QueryAssert.Json(query), out _, out var error));
        Assert.StartsWith("the query holds an invalid string: ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"s": "x"}""")]
    [InlineData("""{"s": {"$in": ["x", 1]}}""")]
    [InlineData("""{"s": {"$gt": "a"}}""")]
    [InlineData("""{"s": {"$regex": "."}}""")]
    [InlineData("""{"s": {"$elemMatch": {"$regex": "."}}}""")]
    [InlineData("""{"s": {"$eq": {"k": "x"}}}""")]
    public void An_undecodable_attribute_string_does_not_match_and_does_not_throw(string query)
    {
        var requirement = QueryAssert.Compile(query);
        foreach (var attributes in new[] { """{"s": "\ud800x"}""", """{"s": ["\udc00"]}""", """{"s": {"\ud800": "x"}}""" })
        {
            Assert.False(requirement.Matches(QueryAssert.Json(attributes)), attributes);
        }
    }

    [Theory]
    [InlineData("""{"$or": [{"s": "x"}, {"t": 1}]}""", """{"s": "\ud800", "t": 1}""")]
    [InlineData("""{"b": 1}""", """{"\ud800": 0, "b": 1}""")]
    [InlineData("""{"o": {"$eq": {"b": 1}}}""", """{"o": {"b": 1}, "\ud800": 0}""")]
    [InlineData("""{"s": {"$ne": "x"}}""", """{"s": "\ud800"}""")]
    public void The_rest_of_the_attributes_still_match_beside_an_undecodable_string(string query, string attributes) =>
        Assert.True(QueryAssert.Matches(query, attributes));

    [Fact]
    public void A_catastrophic_pattern_gives_up_instead_of_stalling()
    {
        var requirement = QueryAssert.Compile("""{"s": {"$regex": "^(a+)+$"}}""");
        var hostile = JsonSerializer.SerializeToElement(new { s = new string('a', 40) + "!" });
        var clock = Stopwatch.StartNew();
        Assert.False(requirement.Matches(hostile));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }
}
