namespace Leasehold.Core.Tests.Query;

/// <summary>
/// Where we deliberately answer differently from mongoquery 2.0.0 (each comment says what it does;
/// rows marked "counterpart" agree with it and pin the other side). Each difference either matches
/// where mongoquery never could, or replaces a Python accident (a crash, a type quirk, an operator
/// silently ignored) with the JSON / MongoDB meaning.
/// </summary>
public class MongoqueryDifferenceTests
{
    [Theory]
    // mongoquery: false, because Python's [a, b] in [a, b] looks for the list as an element.
    [InlineData("""{"tags": ["a", "b"]}""", """{"tags": ["a", "b"]}""", true)]
    // mongoquery: false ([5, 8, 9] > 8 raises TypeError); we match when any element does, as MongoDB.
    [InlineData("""{"ratings": {"$gt": 8}}""", """{"ratings": [5, 8, 9]}""", true)]
    // Counterpart: no element is below 5.
    [InlineData("""{"ratings": {"$lt": 5}}""", """{"ratings": [5, 8, 9]}""", false)]
    [InlineData("""{"disks.size": {"$gte": 512}}""", """{"disks": [{"size": 256}, {"size": 512}]}""", true)]
    // mongoquery: true (Python orders lists lexicographically); an array literal never compares here.
    [InlineData("""{"v": {"$gt": [1]}}""", """{"v": [2]}""", false)]
    // mongoquery: true (a string in $not is compared for equality); here it is a regex, as in MongoDB.
    [InlineData("""{"name": {"$not": "^gpu"}}""", """{"name": "gpu-1"}""", false)]
    // Counterpart: the /pattern/flags form works in $not too.
    [InlineData("""{"name": {"$not": "/^GPU/i"}}""", """{"name": "cpu-1"}""", true)]
    // mongoquery: raises TypeError (it applies the $exists to the key "$not"); here it tests the value.
    [InlineData("""{"n": {"$not": {"$exists": true}}}""", """{}""", true)]
    // mongoquery: true (a dotted $exists ignores the other operators beside it); here all must hold.
    [InlineData("""{"a.b": {"$exists": true, "$gt": 5}}""", """{"a": {"b": 1}}""", false)]
    // mongoquery: false / true (a non-dotted $exists tests Python `in` on the array: membership).
    [InlineData("""{"ports": {"name": {"$exists": true}}}""", """{"ports": [{"name": "x"}]}""", true)]
    [InlineData("""{"ports": {"name": {"$exists": true}}}""", """{"ports": ["name"]}""", false)]
    // mongoquery: raises TypeError ("b" in an undefined value).
    [InlineData("""{"a": {"b": {"$exists": true}}}""", """{}""", false)]
    // mongoquery: true (Python's bool is an int); a JSON boolean is only a "bool".
    [InlineData("""{"v": {"$type": "number"}}""", """{"v": true}""", false)]
    [InlineData("""{"v": {"$type": "int"}}""", """{"v": false}""", false)]
    // mongoquery: true (a Python str is a Sequence).
    [InlineData("""{"v": {"$type": "array"}}""", """{"v": "abc"}""", false)]
    // mongoquery: QueryError (unknown type); "decimal" is accepted and JSON never holds one.
    [InlineData("""{"v": {"$type": "decimal"}}""", """{"v": 1.5}""", false)]
    // mongoquery: raises (str % int, or undefined % int); a value that is not a number is no match.
    [InlineData("""{"n": {"$mod": [2, 0]}}""", """{"n": "4"}""", false)]
    [InlineData("""{"n": {"$mod": [2, 0]}}""", """{}""", false)]
    [InlineData("""{"n": {"$mod": [2, 0]}}""", """{"n": [4]}""", false)]
    // mongoquery: true (it iterates the string's characters); a string is not an array.
    [InlineData("""{"s": {"$elemMatch": {"$eq": "a"}}}""", """{"s": "abc"}""", false)]
    public void Differences(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));
}
