namespace Leasehold.Core.Tests.Query;

/// <summary>$exists (on the path, null counts as present) and $type (BSON names and numbers, read for JSON).</summary>
public class ElementMatchingTests
{
    [Theory]
    [InlineData("""{"gpu": {"$exists": true}}""", """{"gpu": "a100"}""", true)]
    [InlineData("""{"gpu": {"$exists": true}}""", """{"gpu": null}""", true)]
    [InlineData("""{"gpu": {"$exists": true}}""", """{"cpu": 1}""", false)]
    [InlineData("""{"gpu": {"$exists": false}}""", """{"cpu": 1}""", true)]
    [InlineData("""{"gpu": {"$exists": false}}""", """{"gpu": false}""", false)]
    // Dotted paths: through objects, through arrays by index, through arrays by any element.
    [InlineData("""{"hw.gpu": {"$exists": true}}""", """{"hw": {"gpu": 1}}""", true)]
    [InlineData("""{"hw.gpu": {"$exists": true}}""", """{"hw": {"cpu": 1}}""", false)]
    [InlineData("""{"hw.gpu": {"$exists": true}}""", """{"hw": null}""", false)]
    [InlineData("""{"hw.gpu": {"$exists": true}}""", """{"hw": 5}""", false)]
    [InlineData("""{"hw.gpu": {"$exists": false}}""", """{"hw": {"cpu": 1}}""", true)]
    [InlineData("""{"ports.1": {"$exists": true}}""", """{"ports": [10, 20]}""", true)]
    [InlineData("""{"ports.2": {"$exists": true}}""", """{"ports": [10, 20]}""", false)]
    [InlineData("""{"ports.name": {"$exists": true}}""", """{"ports": [{"id": 1}, {"name": "eth0"}]}""", true)]
    [InlineData("""{"ports.name": {"$exists": true}}""", """{"ports": [{"id": 1}, {"id": 2}]}""", false)]
    [InlineData("""{"ports.name": {"$exists": false}}""", """{"ports": [{"id": 1}, {"id": 2}]}""", true)]
    [InlineData("""{"ports.name": {"$exists": true}}""", """{"ports": []}""", false)]
    [InlineData("""{"ports.0.name": {"$exists": true}}""", """{"ports": [{"name": "eth0"}]}""", true)]
    // A digit segment on an object is a key.
    [InlineData("""{"slots.0": {"$exists": true}}""", """{"slots": {"0": "x"}}""", true)]
    // Inside a nested condition object the key is looked up in that sub-document.
    [InlineData("""{"hw": {"gpu": {"$exists": true}}}""", """{"hw": {"gpu": 1}}""", true)]
    [InlineData("""{"hw": {"gpu": {"$exists": true}}}""", """{"hw": {"cpu": 1}}""", false)]
    // With other operators on the same field, all must hold.
    [InlineData("""{"n": {"$exists": true, "$gt": 1}}""", """{"n": 2}""", true)]
    [InlineData("""{"n": {"$exists": true, "$gt": 1}}""", """{"n": 0}""", false)]
    [InlineData("""{"n": {"$exists": false, "$ne": 1}}""", """{}""", true)]
    [InlineData("""{"$and": [{"gpu": {"$exists": false}}]}""", """{"gpu": 1}""", false)]
    public void Exists(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"v": {"$type": "string"}}""", """{"v": "x"}""", true)]
    [InlineData("""{"v": {"$type": 2}}""", """{"v": "x"}""", true)]
    [InlineData("""{"v": {"$type": "string"}}""", """{"v": 1}""", false)]
    [InlineData("""{"v": {"$type": "string"}}""", """{}""", false)]
    [InlineData("""{"v": {"$type": "double"}}""", """{"v": 1.5}""", true)]
    [InlineData("""{"v": {"$type": 1}}""", """{"v": 1e3}""", true)]
    [InlineData("""{"v": {"$type": "double"}}""", """{"v": 1}""", false)]
    [InlineData("""{"v": {"$type": "int"}}""", """{"v": 1}""", true)]
    [InlineData("""{"v": {"$type": 16}}""", """{"v": 1.0}""", false)]
    [InlineData("""{"v": {"$type": "long"}}""", """{"v": 123456789012345678901234567890}""", true)]
    [InlineData("""{"v": {"$type": 18}}""", """{"v": 7}""", true)]
    [InlineData("""{"v": {"$type": "number"}}""", """{"v": 7}""", true)]
    [InlineData("""{"v": {"$type": "number"}}""", """{"v": 7.5}""", true)]
    [InlineData("""{"v": {"$type": "number"}}""", """{"v": "7"}""", false)]
    [InlineData("""{"v": {"$type": "number"}}""", """{"v": null}""", false)]
    [InlineData("""{"v": {"$type": "object"}}""", """{"v": {}}""", true)]
    [InlineData("""{"v": {"$type": 3}}""", """{"v": []}""", false)]
    [InlineData("""{"v": {"$type": "array"}}""", """{"v": [1]}""", true)]
    [InlineData("""{"v": {"$type": 4}}""", """{"v": {}}""", false)]
    [InlineData("""{"v": {"$type": "bool"}}""", """{"v": false}""", true)]
    [InlineData("""{"v": {"$type": 8}}""", """{"v": 0}""", false)]
    [InlineData("""{"v": {"$type": "null"}}""", """{"v": null}""", true)]
    [InlineData("""{"v": {"$type": 10}}""", """{}""", false)]
    [InlineData("""{"v": {"$type": 2.0}}""", """{"v": "x"}""", true)]
    // $type looks at the array itself, not its elements.
    [InlineData("""{"v": {"$type": "string"}}""", """{"v": ["x"]}""", false)]
    // Aliases mongoquery maps to strings, and types JSON cannot hold.
    [InlineData("""{"v": {"$type": "objectId"}}""", """{"v": "5f1d"}""", true)]
    [InlineData("""{"v": {"$type": "date"}}""", """{"v": "2024-01-01"}""", true)]
    [InlineData("""{"v": {"$type": "binData"}}""", """{"v": "AAAA"}""", false)]
    [InlineData("""{"v": {"$type": "regex"}}""", """{"v": "^a"}""", false)]
    public void Type(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));
}
