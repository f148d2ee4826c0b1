namespace Leasehold.Core.Tests.Query;

/// <summary>$gt/$gte/$lt/$lte: numbers with numbers (booleans count as 0 and 1), strings with strings, else no match.</summary>
public class ComparisonMatchingTests
{
    [Theory]
    [InlineData("""{"n": {"$gt": 5}}""", """{"n": 6}""", true)]
    [InlineData("""{"n": {"$gt": 5}}""", """{"n": 5}""", false)]
    [InlineData("""{"n": {"$gt": 5}}""", """{"n": 5.5}""", true)]
    [InlineData("""{"n": {"$gt": 5.5}}""", """{"n": 5}""", false)]
    [InlineData("""{"n": {"$gt": 5}}""", """{"n": -6}""", false)]
    [InlineData("""{"n": {"$gt": 5}}""", """{}""", false)]
    [InlineData("""{"n": {"$gt": 5}}""", """{"n": null}""", false)]
    [InlineData("""{"n": {"$gt": 5}}""", """{"n": "6"}""", false)]
    [InlineData("""{"n": {"$gt": 9007199254740992.0}}""", """{"n": 9007199254740993}""", true)]
    [InlineData("""{"n": {"$gt": 1e300}}""", """{"n": 123456789012345678901234567890}""", false)]
    [InlineData("""{"n": {"$gt": -1.5}}""", """{"n": -9223372036854775808}""", false)]
    [InlineData("""{"n": {"$gt": -1e400}}""", """{"n": -9223372036854775808}""", true)]
    [InlineData("""{"n": {"$lt": 1e400}}""", """{"n": 1e308}""", true)]
    [InlineData("""{"n": {"$gt": 0}}""", """{"n": true}""", true)]
    [InlineData("""{"n": {"$gt": false}}""", """{"n": 1}""", true)]
    [InlineData("""{"s": {"$gt": "b"}}""", """{"s": "c"}""", true)]
    [InlineData("""{"s": {"$gt": "b"}}""", """{"s": "B"}""", false)]
    [InlineData("""{"s": {"$gt": "b"}}""", """{"s": "ba"}""", true)]
    [InlineData("""{"s": {"$gt": "b"}}""", """{"s": 7}""", false)]
    [InlineData("""{"s": {"$gt": "\uffff"}}""", """{"s": "\ud83d\ude00"}""", true)]
    // A literal Python cannot order anything against matches nothing.
    [InlineData("""{"n": {"$gt": null}}""", """{"n": 1}""", false)]
    [InlineData("""{"n": {"$gt": {"a": 1}}}""", """{"n": {"a": 2}}""", false)]
    public void Gt(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"n": {"$gte": 5}}""", """{"n": 5}""", true)]
    [InlineData("""{"n": {"$gte": 5}}""", """{"n": 5.0}""", true)]
    [InlineData("""{"n": {"$gte": 5}}""", """{"n": 4.999}""", false)]
    [InlineData("""{"n": {"$gte": 5}}""", """{}""", false)]
    [InlineData("""{"s": {"$gte": "abc"}}""", """{"s": "abc"}""", true)]
    [InlineData("""{"s": {"$gte": "abc"}}""", """{"s": "ab"}""", false)]
    [InlineData("""{"on": {"$gte": 1}}""", """{"on": true}""", true)]
    public void Gte(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"n": {"$lt": 5}}""", """{"n": 4}""", true)]
    [InlineData("""{"n": {"$lt": 5}}""", """{"n": 5}""", false)]
    [InlineData("""{"n": {"$lt": 5}}""", """{"n": -1e10}""", true)]
    [InlineData("""{"n": {"$lt": 5}}""", """{}""", false)]
    [InlineData("""{"n": {"$lt": 5}}""", """{"n": "4"}""", false)]
    [InlineData("""{"n": {"$lt": 1}}""", """{"n": false}""", true)]
    [InlineData("""{"s": {"$lt": "b"}}""", """{"s": "a"}""", true)]
    [InlineData("""{"s": {"$lt": "b"}}""", """{"s": "b"}""", false)]
    public void Lt(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"n": {"$lte": 5}}""", """{"n": 5}""", true)]
    [InlineData("""{"n": {"$lte": 5}}""", """{"n": 5.0001}""", false)]
    [InlineData("""{"n": {"$lte": 5}}""", """{}""", false)]
    [InlineData("""{"n": {"$lte": 5}}""", """{"n": true}""", true)]
    [InlineData("""{"s": {"$lte": "b"}}""", """{"s": "b"}""", true)]
    [InlineData("""{"s": {"$lte": "b"}}""", """{"s": "c"}""", false)]
    public void Lte(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    // A range is two operators on the same field; both must hold.
    [InlineData("""{"ram": {"$gte": 8, "$lt": 16}}""", """{"ram": 8}""", true)]
    [InlineData("""{"ram": {"$gte": 8, "$lt": 16}}""", """{"ram": 16}""", false)]
    [InlineData("""{"ram": {"$gte": 8, "$lt": 16}}""", """{"ram": 4}""", false)]
    public void Ranges(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));
}
