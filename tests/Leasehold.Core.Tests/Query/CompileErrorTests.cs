namespace Leasehold.Core.Tests.Query;

/// <summary>Malformed queries are refused at compile time, with the operator and its place in the message.</summary>
public class CompileErrorTests
{
    [Theory]
    [InlineData("""{"$foo": 1}""", "unknown operator '$foo' at top level")]
    [InlineData("""{"os": {"$foo": 1}}""", "unknown operator '$foo' at os")]
    [InlineData("""{"hw": {"cpu": {"$bar": 1}}}""", "unknown operator '$bar' at hw.cpu")]
    [InlineData("""{"$and": [{"a": 1}, {"os": {"$foo": 1}}]}""", "unknown operator '$foo' at $and[1].os")]
    [InlineData("""{"ports": {"$elemMatch": {"speed": {"$fast": 1}}}}""", "unknown operator '$fast' at ports.$elemMatch.speed")]
    [InlineData("""{"n": {"$not": {"$foo": 1}}}""", "unknown operator '$foo' at n.$not")]
    [InlineData("""{"n": {"$all": [{"$foo": 1}]}}""", "unknown operator '$foo' at n.$all[0]")]
    [InlineData("""{"n": {"$GT": 1}}""", "unknown operator '$GT' at n")]
    [InlineData("""{"$where": "1"}""", "$where is not supported at top level")]
    [InlineData("""{"$text": {"$search": "x"}}""", "$text is not supported at top level")]
    [InlineData("""{"$expr": {"$gt": ["$a", 1]}}""", "$expr is not supported at top level")]
    [InlineData("""{"name": {"$regex": "a", "$options": "i"}}""", "$options is not supported at name")]
    [InlineData("""{"tags": {"$in": "a"}}""", "$in takes an array at tags")]
    [InlineData("""{"tags": {"$in": {"a": 1}}}""", "$in takes an array at tags")]
    [InlineData("""{"tags": {"$nin": 1}}""", "$nin takes an array at tags")]
    [InlineData("""{"tags": {"$all": "a"}}""", "$all takes an array at tags")]
    [InlineData("""{"$and": []}""", "$and takes a non-empty array of query objects at top level")]
    [InlineData("""{"$and": {"a": 1}}""", "$and takes a non-empty array of query objects at top level")]
    [InlineData("""{"$or": [1]}""", "$or takes a non-empty array of query objects at top level")]
    [InlineData("""{"$or": "a"}""", "$or takes a non-empty array of query objects at top level")]
    [InlineData("""{"x": {"$nor": [{"$gt": 1}, "b"]}}""", "$nor takes a non-empty array of query objects at x")]
    [InlineData("""{"x": {"$not": 5}}""", "$not takes an operator object or a regex at x")]
    [InlineData("""{"x": {"$not": [{"$gt": 1}]}}""", "$not takes an operator object or a regex at x")]
    [InlineData("""{"x": {"$exists": 1}}""", "$exists takes true or false at x")]
    [InlineData("""{"x": {"$exists": "yes"}}""", "$exists takes true or false at x")]
    [InlineData("""{"x": {"$not": {"$exists": null}}}""", "$exists takes true or false at x.$not")]
    [InlineData("""{"x": {"$type": "float"}}""", "$type: unknown type \"float\" at x")]
    [InlineData("""{"x": {"$type": 6}}""", "$type: unknown type 6 at x")]
    [InlineData("""{"x": {"$type": 2.5}}""", "$type: unknown type 2.5 at x")]
    [InlineData("""{"x": {"$type": ["string"]}}""", "$type: unknown type [\"string\"] at x")]
    [InlineData("""{"x": {"$mod": [4]}}""", "$mod takes [divisor, remainder] (two numbers) at x")]
    [InlineData("""{"x": {"$mod": [4, 1, 2]}}""", "$mod takes [divisor, remainder] (two numbers) at x")]
    [InlineData("""{"x": {"$mod": ["4", 1]}}""", "$mod takes [divisor, remainder] (two numbers) at x")]
    [InlineData("""{"x": {"$mod": 4}}""", "$mod takes [divisor, remainder] (two numbers) at x")]
    [InlineData("""{"x": {"$mod": [0, 1]}}""", "$mod: the divisor must not be zero at x")]
    [InlineData("""{"x": {"$mod": [0.0, 0]}}""", "$mod: the divisor must not be zero at x")]
    [InlineData("""{"x": {"$regex": 5}}""", "$regex takes a string at x")]
    [InlineData("""{"x": {"$regex": null}}""", "$regex takes a string at x")]
    [InlineData("""{"x": {"$elemMatch": [1]}}""", "$elemMatch takes an object at x")]
    [InlineData("""{"x": {"$elemMatch": "a"}}""", "$elemMatch takes an object at x")]
    [InlineData("""{"x": {"$size": 2.0}}""", "$size takes a whole number at x")]
    [InlineData("""{"x": {"$size": 2.5}}""", "$size takes a whole number at x")]
    [InlineData("""{"x": {"$size": -1}}""", "$size takes a whole number at x")]
    [InlineData("""{"x": {"$size": "2"}}""", "$size takes a whole number at x")]
    [InlineData("""{"x": {"$size": true}}""", "$size takes a whole number at x")]
    public void Malformed_queries_name_the_operator_and_place(string query, string expected) =>
        Assert.Equal(expected, QueryAssert.CompileError(query));

    [Theory]
    [InlineData("""{"name": {"$regex": "("}}""", "$regex: invalid pattern '(' at name: ")]
    [InlineData("""{"name": {"$regex": "/[a/i"}}""", "$regex: invalid pattern '/[a/i' at name: ")]
    [InlineData("""{"name": {"$regex": "(?P<n>a)"}}""", "$regex: invalid pattern '(?P<n>a)' at name: ")]
    [InlineData("""{"name": {"$not": "*"}}""", "$not: invalid pattern '*' at name: ")]
    public void Invalid_patterns_are_refused_with_the_reason(string query, string prefix)
    {
        var error = QueryAssert.CompileError(query);
        Assert.StartsWith(prefix, error, StringComparison.Ordinal);
        Assert.True(error.Length > prefix.Length, $"no reason given: {error}");
    }

    /// <summary>
    /// Patterns are matched in linear time, so the constructs that need backtracking are refused when the
    /// request arrives, saying what is missing, instead of being matched under a time budget that load decides.
    /// </summary>
    [Theory]
    [InlineData("""{"name": {"$regex": "(a)\\1"}}""", "backreference")]
    [InlineData("""{"name": {"$regex": "(?<x>a)\\k<x>"}}""", "backreference")]
    [InlineData("""{"name": {"$regex": "gpu(?=-01)"}}""", "lookahead")]
    [InlineData("""{"name": {"$regex": "(?<!c)pu"}}""", "lookbehind")]
    [InlineData("""{"name": {"$regex": "(?>a+)b"}}""", "atomic")]
    [InlineData("""{"name": {"$regex": "(?(a)b|c)"}}""", "conditional")]
    [InlineData("""{"name": {"$regex": "\\Ga"}}""", "\\G")]
    [InlineData("""{"name": {"$not": "/(a)\\1/i"}}""", "backreference")]
    [InlineData("""{"name": {"$regex": "a{0,50000}"}}""", "10000")]
    public void Patterns_needing_backtracking_are_refused(string query, string reason)
    {
        var error = QueryAssert.CompileError(query);
        Assert.Contains(" at name is not supported (patterns match in linear time", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pattern_longer_than_the_limit_is_refused()
    {
        var pattern = new string('a', 1001);
        Assert.Equal("$regex: the pattern at name has 1001 characters; at most 1000",
            QueryAssert.CompileError("{\"name\": {\"$regex\": \"" + pattern + "\"}}"));
        Assert.True(Leasehold.Core.Query.Requirement.TryCompile(System.Text.Json.JsonDocument.Parse("{\"name\": {\"$regex\": \"" + pattern[1..] + "\"}}").RootElement, out _, out var error), error);
    }

    [Theory]
    [InlineData("[]", "a query must be a JSON object, not an array")]
    [InlineData("\"os=linux\"", "a query must be a JSON object, not a string")]
    [InlineData("null", "a query must be a JSON object, not null")]
    public void A_query_is_an_object(string query, string expected) =>
        Assert.Equal(expected, QueryAssert.CompileError(query));

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"a\": ", 70)) + "1" + new string('}', 70);
        Assert.StartsWith("the query nests too deeply at a.a.a", QueryAssert.CompileError(deep), StringComparison.Ordinal);
        var deepLiteral = "{\"a\": " + new string('[', 70) + new string(']', 70) + "}";
        Assert.Equal("the query nests too deeply at a", QueryAssert.CompileError(deepLiteral));
    }

    [Fact]
    public void An_error_in_any_branch_refuses_the_whole_query()
    {
        // Compiling is eager: an error in a branch the attributes would never reach is still an error.
        Assert.Equal("unknown operator '$foo' at $or[1]",
            QueryAssert.CompileError("""{"$or": [{"a": 1}, {"$foo": 1}]}"""));
    }
}
