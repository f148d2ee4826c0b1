namespace Leasehold.Core.Tests.Query;

/// <summary>Plain values, nested objects, $eq/$ne/$in/$nin: Python's == and `in`, as mongoquery uses them.</summary>
public class EqualityMatchingTests
{
    [Theory]
    // The empty query matches anything.
    [InlineData("""{}""", """{}""", true)]
    [InlineData("""{}""", """{"a": 1}""", true)]
    // A plain value means equality; a missing field never matches, not even null.
    [InlineData("""{"os": "linux"}""", """{"os": "linux"}""", true)]
    [InlineData("""{"os": "linux"}""", """{"os": "Linux"}""", false)]
    [InlineData("""{"os": "linux"}""", """{"arch": "x86"}""", false)]
    [InlineData("""{"os": null}""", """{"os": null}""", true)]
    [InlineData("""{"os": null}""", """{}""", false)]
    [InlineData("""{"os": null}""", """{"os": "linux"}""", false)]
    // Every key must hold.
    [InlineData("""{"os": "linux", "arch": "x86"}""", """{"os": "linux", "arch": "x86"}""", true)]
    [InlineData("""{"os": "linux", "arch": "x86"}""", """{"os": "linux", "arch": "arm"}""", false)]
    // A repeated key keeps its last value, as Python's json.loads does.
    [InlineData("""{"os": "bsd", "os": "linux"}""", """{"os": "linux"}""", true)]
    [InlineData("""{"os": "bsd", "os": "linux"}""", """{"os": "bsd"}""", false)]
    // Numbers compare numerically; strings never equal numbers.
    [InlineData("""{"n": 1}""", """{"n": 1.0}""", true)]
    [InlineData("""{"n": 1.5}""", """{"n": 15e-1}""", true)]
    [InlineData("""{"n": 1}""", """{"n": 2}""", false)]
    [InlineData("""{"n": 1}""", """{"n": "1"}""", false)]
    [InlineData("""{"n": "1"}""", """{"n": 1}""", false)]
    [InlineData("""{"n": 9007199254740993}""", """{"n": 9007199254740992.0}""", false)]
    [InlineData("""{"n": 123456789012345678901234567890}""", """{"n": 123456789012345678901234567890}""", true)]
    [InlineData("""{"n": 123456789012345678901234567890}""", """{"n": 123456789012345678901234567891}""", false)]
    [InlineData("""{"n": 36893488147419103232}""", """{"n": 36893488147419103232.0}""", true)]
    // Python's True == 1 and False == 0: a boolean equals the number 1 or 0, in both directions.
    [InlineData("""{"online": 1}""", """{"online": true}""", true)]
    [InlineData("""{"online": true}""", """{"online": 1}""", true)]
    [InlineData("""{"online": true}""", """{"online": 1.0}""", true)]
    [InlineData("""{"online": false}""", """{"online": 0}""", true)]
    [InlineData("""{"online": true}""", """{"online": 2}""", false)]
    [InlineData("""{"online": false}""", """{"online": null}""", false)]
    [InlineData("""{"online": true}""", """{"online": "true"}""", false)]
    // An array field contains the plain value.
    [InlineData("""{"tags": "gpu"}""", """{"tags": ["cpu", "gpu"]}""", true)]
    [InlineData("""{"tags": "tpu"}""", """{"tags": ["cpu", "gpu"]}""", false)]
    [InlineData("""{"tags": 1}""", """{"tags": [true]}""", true)]
    [InlineData("""{"tags": null}""", """{"tags": [null]}""", true)]
    [InlineData("""{"tags": "cpu"}""", """{"tags": "cpu,gpu"}""", false)]
    // An array value: an equal array, or an element equal to it.
    [InlineData("""{"tags": ["a", "b"]}""", """{"tags": [["a", "b"], "c"]}""", true)]
    [InlineData("""{"tags": ["a", "b"]}""", """{"tags": ["b", "a"]}""", false)]
    [InlineData("""{"tags": ["a", "b"]}""", """{"tags": "a"}""", false)]
    [InlineData("""{"pos": [1, 2]}""", """{"pos": [[1.0, 2.0]]}""", true)]
    // A nested object without operators is a SUBSET match, recursively.
    [InlineData("""{"hw": {"cpu": "arm"}}""", """{"hw": {"cpu": "arm", "ram": 8}}""", true)]
    [InlineData("""{"hw": {"cpu": "arm", "ram": 8}}""", """{"hw": {"cpu": "arm"}}""", false)]
    [InlineData("""{"hw": {"cpu": "arm"}}""", """{"hw": {"cpu": "x86"}}""", false)]
    [InlineData("""{"hw": {"cpu": {"vendor": "acme"}}}""", """{"hw": {"cpu": {"vendor": "acme", "cores": 4}}}""", true)]
    [InlineData("""{"hw": {"cpu": {"vendor": "acme"}}}""", """{"hw": {"cpu": {"vendor": "other"}}}""", false)]
    [InlineData("""{"hw": {"cpu": "arm"}}""", """{"hw": "arm"}""", false)]
    [InlineData("""{"hw": {"cpu": "arm"}}""", """{}""", false)]
    // An empty condition object holds even for a missing field (all of nothing), as in mongoquery.
    [InlineData("""{"hw": {}}""", """{}""", true)]
    public void Plain_values(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"n": {"$eq": 5}}""", """{"n": 5}""", true)]
    [InlineData("""{"n": {"$eq": 5}}""", """{"n": 5.0}""", true)]
    [InlineData("""{"n": {"$eq": 5}}""", """{"n": 6}""", false)]
    [InlineData("""{"n": {"$eq": 5}}""", """{}""", false)]
    [InlineData("""{"n": {"$eq": null}}""", """{"n": null}""", true)]
    [InlineData("""{"n": {"$eq": null}}""", """{}""", false)]
    [InlineData("""{"on": {"$eq": 1}}""", """{"on": true}""", true)]
    // $eq compares the whole value: an object exactly, an array as an array (no containment).
    [InlineData("""{"hw": {"$eq": {"cpu": "arm"}}}""", """{"hw": {"cpu": "arm"}}""", true)]
    [InlineData("""{"hw": {"$eq": {"cpu": "arm"}}}""", """{"hw": {"cpu": "arm", "ram": 8}}""", false)]
    [InlineData("""{"hw": {"$eq": {"cpu": "arm", "ram": 8}}}""", """{"hw": {"ram": 8.0, "cpu": "arm"}}""", true)]
    [InlineData("""{"tags": {"$eq": ["a", "b"]}}""", """{"tags": ["a", "b"]}""", true)]
    [InlineData("""{"tags": {"$eq": "a"}}""", """{"tags": ["a", "b"]}""", false)]
    public void Eq(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"n": {"$ne": 5}}""", """{"n": 6}""", true)]
    [InlineData("""{"n": {"$ne": 5}}""", """{"n": 5}""", false)]
    [InlineData("""{"n": {"$ne": 5}}""", """{"n": 5.0}""", false)]
    // $ne matches a missing field.
    [InlineData("""{"n": {"$ne": 5}}""", """{}""", true)]
    [InlineData("""{"n": {"$ne": null}}""", """{}""", true)]
    [InlineData("""{"n": {"$ne": null}}""", """{"n": null}""", false)]
    [InlineData("""{"on": {"$ne": 0}}""", """{"on": false}""", false)]
    // Python's != on the whole value: an array is never equal to a scalar (mongoquery's rule).
    [InlineData("""{"tags": {"$ne": "a"}}""", """{"tags": ["a", "b"]}""", true)]
    [InlineData("""{"tags": {"$ne": ["a", "b"]}}""", """{"tags": ["a", "b"]}""", false)]
    public void Ne(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"n": {"$in": [1, 2]}}""", """{"n": 2}""", true)]
    [InlineData("""{"n": {"$in": [1, 2]}}""", """{"n": 2.0}""", true)]
    [InlineData("""{"n": {"$in": [1, 2]}}""", """{"n": 3}""", false)]
    [InlineData("""{"n": {"$in": [1, 2]}}""", """{}""", false)]
    [InlineData("""{"n": {"$in": []}}""", """{"n": 1}""", false)]
    [InlineData("""{"n": {"$in": [null]}}""", """{"n": null}""", true)]
    [InlineData("""{"n": {"$in": [null]}}""", """{}""", false)]
    [InlineData("""{"on": {"$in": [1]}}""", """{"on": true}""", true)]
    [InlineData("""{"os": {"$in": ["linux", "bsd"]}}""", """{"os": "bsd"}""", true)]
    // On an array field: some listed value is an element.
    [InlineData("""{"tags": {"$in": ["x", "gpu"]}}""", """{"tags": ["cpu", "gpu"]}""", true)]
    [InlineData("""{"tags": {"$in": ["x", "y"]}}""", """{"tags": ["cpu", "gpu"]}""", false)]
    // Listed objects compare exactly (Python ==), not by subset.
    [InlineData("""{"hw": {"$in": [{"cpu": "arm"}]}}""", """{"hw": {"cpu": "arm"}}""", true)]
    [InlineData("""{"hw": {"$in": [{"cpu": "arm"}]}}""", """{"hw": {"cpu": "arm", "ram": 8}}""", false)]
    public void In(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"n": {"$nin": [1, 2]}}""", """{"n": 3}""", true)]
    [InlineData("""{"n": {"$nin": [1, 2]}}""", """{"n": 1}""", false)]
    [InlineData("""{"n": {"$nin": [1, 2]}}""", """{"n": 1.0}""", false)]
    // $nin matches a missing field.
    [InlineData("""{"n": {"$nin": [1, 2]}}""", """{}""", true)]
    [InlineData("""{"n": {"$nin": []}}""", """{"n": 1}""", true)]
    [InlineData("""{"tags": {"$nin": ["x", "y"]}}""", """{"tags": ["cpu", "gpu"]}""", true)]
    [InlineData("""{"tags": {"$nin": ["x", "gpu"]}}""", """{"tags": ["cpu", "gpu"]}""", false)]
    public void Nin(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));
}
