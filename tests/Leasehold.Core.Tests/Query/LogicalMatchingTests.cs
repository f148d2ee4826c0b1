namespace Leasehold.Core.Tests.Query;

/// <summary>$and/$or/$nor over lists of query objects, and $not over an operator object or a regex.</summary>
public class LogicalMatchingTests
{
    [Theory]
    [InlineData("""{"$and": [{"os": "linux"}, {"ram": {"$gte": 8}}]}""", """{"os": "linux", "ram": 16}""", true)]
    [InlineData("""{"$and": [{"os": "linux"}, {"ram": {"$gte": 8}}]}""", """{"os": "linux", "ram": 4}""", false)]
    [InlineData("""{"$and": [{"os": "linux"}]}""", """{"os": "bsd"}""", false)]
    // Inside a field, the parts apply to the field's value.
    [InlineData("""{"n": {"$and": [{"$gt": 1}, {"$lt": 3}]}}""", """{"n": 2}""", true)]
    [InlineData("""{"n": {"$and": [{"$gt": 1}, {"$lt": 3}]}}""", """{"n": 3}""", false)]
    public void And(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"$or": [{"os": "linux"}, {"os": "bsd"}]}""", """{"os": "bsd"}""", true)]
    [InlineData("""{"$or": [{"os": "linux"}, {"os": "bsd"}]}""", """{"os": "mac"}""", false)]
    [InlineData("""{"$or": [{"os": "linux"}, {"gpu": {"$exists": true}}]}""", """{"os": "mac", "gpu": 0}""", true)]
    [InlineData("""{"$or": [{"os": "linux"}], "ram": 8}""", """{"os": "linux", "ram": 4}""", false)]
    [InlineData("""{"n": {"$or": [{"$lt": 1}, {"$gt": 3}]}}""", """{"n": 4}""", true)]
    [InlineData("""{"n": {"$or": [{"$lt": 1}, {"$gt": 3}]}}""", """{"n": 2}""", false)]
    public void Or(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"$nor": [{"os": "linux"}, {"os": "bsd"}]}""", """{"os": "mac"}""", true)]
    [InlineData("""{"$nor": [{"os": "linux"}, {"os": "bsd"}]}""", """{"os": "bsd"}""", false)]
    [InlineData("""{"$nor": [{"os": "linux"}]}""", """{}""", true)]
    public void Nor(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"n": {"$not": {"$gt": 5}}}""", """{"n": 3}""", true)]
    [InlineData("""{"n": {"$not": {"$gt": 5}}}""", """{"n": 7}""", false)]
    // $not holds where its condition fails, a missing field included.
    [InlineData("""{"n": {"$not": {"$gt": 5}}}""", """{}""", true)]
    [InlineData("""{"n": {"$not": {"$in": [1, 2]}}}""", """{"n": 2}""", false)]
    [InlineData("""{"name": {"$not": {"$regex": "^gpu"}}}""", """{"name": "cpu-1"}""", true)]
    [InlineData("""{"name": {"$not": {"$regex": "^gpu"}}}""", """{"name": "gpu-1"}""", false)]
    [InlineData("""{"name": {"$not": {"$regex": "/^GPU/i"}}}""", """{"name": "gpu-1"}""", false)]
    [InlineData("""{"hw": {"$not": {"cpu": "arm"}}}""", """{"hw": {"cpu": "x86"}}""", true)]
    public void Not(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));
}
