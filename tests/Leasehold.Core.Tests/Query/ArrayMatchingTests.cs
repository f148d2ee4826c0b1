namespace Leasehold.Core.Tests.Query;

/// <summary>$all, $elemMatch (objects and scalars) and $size, on arrays and on what a dotted path projects.</summary>
public class ArrayMatchingTests
{
    [Theory]
    [InlineData("""{"tags": {"$all": ["a", "b"]}}""", """{"tags": ["b", "c", "a"]}""", true)]
    [InlineData("""{"tags": {"$all": ["a", "b"]}}""", """{"tags": ["a", "c"]}""", false)]
    [InlineData("""{"tags": {"$all": ["a"]}}""", """{"tags": "a"}""", true)]
    [InlineData("""{"tags": {"$all": ["a"]}}""", """{}""", false)]
    // An empty $all holds for anything, as in mongoquery (MongoDB would match nothing).
    [InlineData("""{"tags": {"$all": []}}""", """{}""", true)]
    [InlineData("""{"ports": {"$all": [{"$elemMatch": {"speed": {"$gte": 10}}}, {"$elemMatch": {"name": "eth0"}}]}}""",
        """{"ports": [{"name": "eth0", "speed": 1}, {"name": "eth1", "speed": 10}]}""", true)]
    [InlineData("""{"ports": {"$all": [{"$elemMatch": {"speed": {"$gte": 10}}}, {"$elemMatch": {"name": "eth2"}}]}}""",
        """{"ports": [{"name": "eth0", "speed": 1}, {"name": "eth1", "speed": 10}]}""", false)]
    [InlineData("""{"ports.speed": {"$all": [1, 10]}}""", """{"ports": [{"speed": 1}, {"speed": 10}]}""", true)]
    public void All(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    // On objects: one element must satisfy every condition at once.
    [InlineData("""{"ports": {"$elemMatch": {"name": "eth0", "up": true}}}""", """{"ports": [{"name": "eth0", "up": true}]}""", true)]
    [InlineData("""{"ports": {"$elemMatch": {"name": "eth0", "up": true}}}""",
        """{"ports": [{"name": "eth0", "up": false}, {"name": "eth1", "up": true}]}""", false)]
    [InlineData("""{"ports": {"$elemMatch": {"speed": {"$gt": 5}, "name": {"$regex": "^eth"}}}}""",
        """{"ports": [{"name": "wlan0", "speed": 9}, {"name": "eth1", "speed": 10}]}""", true)]
    [InlineData("""{"ports": {"$elemMatch": {"name": {"$exists": true}}}}""", """{"ports": [{"id": 1}, {"name": null}]}""", true)]
    [InlineData("""{"ports": {"$elemMatch": {"name": "eth0"}}}""", """{"ports": {"name": "eth0"}}""", false)]
    [InlineData("""{"ports": {"$elemMatch": {"name": "eth0"}}}""", """{}""", false)]
    [InlineData("""{"ports": {"$elemMatch": {}}}""", """{"ports": []}""", false)]
    [InlineData("""{"ports": {"$elemMatch": {}}}""", """{"ports": [{}]}""", true)]
    // On scalars: an operator object applied to each element.
    [InlineData("""{"scores": {"$elemMatch": {"$gte": 80, "$lt": 85}}}""", """{"scores": [70, 82, 90]}""", true)]
    [InlineData("""{"scores": {"$elemMatch": {"$gte": 80, "$lt": 85}}}""", """{"scores": [70, 79, 90]}""", false)]
    [InlineData("""{"tags": {"$elemMatch": {"$in": ["x", "y"]}}}""", """{"tags": ["a", "y"]}""", true)]
    [InlineData("""{"tags": {"$elemMatch": {"$regex": "^g"}}}""", """{"tags": ["cpu", "gpu"]}""", true)]
    public void ElemMatch(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"tags": {"$size": 2}}""", """{"tags": ["a", "b"]}""", true)]
    [InlineData("""{"tags": {"$size": 2}}""", """{"tags": ["a"]}""", false)]
    [InlineData("""{"tags": {"$size": 1}}""", """{"tags": ["a", "b"]}""", false)]
    [InlineData("""{"tags": {"$size": 0}}""", """{"tags": []}""", true)]
    [InlineData("""{"tags": {"$size": 0}}""", """{}""", false)]
    // Only arrays have a size: not strings, not objects.
    [InlineData("""{"tags": {"$size": 2}}""", """{"tags": "ab"}""", false)]
    [InlineData("""{"tags": {"$size": 1}}""", """{"tags": {"a": 1}}""", false)]
    // The array itself, not its elements.
    [InlineData("""{"m": {"$size": 2}}""", """{"m": [[1, 2, 3]]}""", false)]
    [InlineData("""{"m": {"$size": 1}}""", """{"m": [[1, 2, 3]]}""", true)]
    // A projection through an array counts one entry per element, missing ones included.
    [InlineData("""{"ports.name": {"$size": 2}}""", """{"ports": [{"name": "a"}, {"id": 2}]}""", true)]
    public void Size(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));
}
