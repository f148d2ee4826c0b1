namespace Leasehold.Core.Tests.Query;

/// <summary>Dotted field paths: into objects, into arrays by numeric index, and across arrays of objects.</summary>
public class PathMatchingTests
{
    [Theory]
    [InlineData("""{"hw.cpu": "arm"}""", """{"hw": {"cpu": "arm"}}""", true)]
    [InlineData("""{"hw.cpu": "arm"}""", """{"hw": {"cpu": "x86"}}""", false)]
    [InlineData("""{"hw.cpu.vendor": "acme"}""", """{"hw": {"cpu": {"vendor": "acme"}}}""", true)]
    [InlineData("""{"hw.cpu": "arm"}""", """{"hw": {}}""", false)]
    [InlineData("""{"hw.cpu": "arm"}""", """{"hw": "arm"}""", false)]
    [InlineData("""{"hw.cpu": "arm"}""", """{}""", false)]
    // A key with a dot in it is not reachable: the path always splits on dots.
    [InlineData("""{"hw.cpu": "arm"}""", """{"hw.cpu": "arm"}""", false)]
    // A null on the way yields null (mongoquery), so only null matches there.
    [InlineData("""{"hw.cpu": null}""", """{"hw": null}""", true)]
    [InlineData("""{"hw.cpu": "arm"}""", """{"hw": null}""", false)]
    // A numeric segment indexes an array; out of range is missing.
    [InlineData("""{"disks.0": "ssd"}""", """{"disks": ["ssd", "hdd"]}""", true)]
    [InlineData("""{"disks.1": "ssd"}""", """{"disks": ["ssd", "hdd"]}""", false)]
    [InlineData("""{"disks.5": "ssd"}""", """{"disks": ["ssd", "hdd"]}""", false)]
    [InlineData("""{"disks.5": {"$ne": "ssd"}}""", """{"disks": ["ssd", "hdd"]}""", true)]
    [InlineData("""{"disks.1.size": 512}""", """{"disks": [{"size": 256}, {"size": 512}]}""", true)]
    [InlineData("""{"disks.0.size": 512}""", """{"disks": [{"size": 256}, {"size": 512}]}""", false)]
    // A numeric segment on an object is a key.
    [InlineData("""{"slots.0": "x"}""", """{"slots": {"0": "x"}}""", true)]
    // A negative index counts from the end, as Python's does.
    [InlineData("""{"disks.-1": "hdd"}""", """{"disks": ["ssd", "hdd"]}""", true)]
    // Without an index, the rest of the path applies to every element, and any element can match.
    [InlineData("""{"disks.size": 512}""", """{"disks": [{"size": 256}, {"size": 512}]}""", true)]
    [InlineData("""{"disks.size": 1024}""", """{"disks": [{"size": 256}, {"size": 512}]}""", false)]
    [InlineData("""{"disks.size": 512}""", """{"disks": [{"kind": "ssd"}, {"size": 512}]}""", true)]
    [InlineData("""{"disks.size": 512}""", """{"disks": []}""", false)]
    [InlineData("""{"disks.size": {"$in": [1, 512]}}""", """{"disks": [{"size": 256}, {"size": 512}]}""", true)]
    [InlineData("""{"disks.size": {"$nin": [512]}}""", """{"disks": [{"size": 256}, {"size": 512}]}""", false)]
    [InlineData("""{"disks.tags": "fast"}""", """{"disks": [{"tags": "fast"}, {"tags": ["slow"]}]}""", true)]
    [InlineData("""{"a.b.c": 1}""", """{"a": [{"b": [{"c": 2}, {"c": 1}]}]}""", false)]
    [InlineData("""{"a.b.c": [1]}""", """{"a": [{"b": [{"c": 2}, {"c": 1}]}]}""", false)]
    [InlineData("""{"a.b.c": [2, 1]}""", """{"a": [{"b": [{"c": 2}, {"c": 1}]}]}""", true)]
    [InlineData("""{"a.b": {"c": 1}}""", """{"a": [{"b": {"c": 1}}]}""", true)]
    // An index out of range in any element makes the whole field missing (mongoquery's IndexError).
    [InlineData("""{"a.b.1": 5}""", """{"a": [{"b": [1, 5]}, {"b": [1, 2]}]}""", true)]
    [InlineData("""{"a.b.1": 5}""", """{"a": [{"b": [1, 5]}, {"b": [1]}]}""", false)]
    // A nested condition object across an array checks each key across the elements.
    [InlineData("""{"disks": {"size": 512}}""", """{"disks": [{"size": 256}, {"size": 512}]}""", true)]
    [InlineData("""{"disks": {"size": 512, "kind": "ssd"}}""", """{"disks": [{"size": 512, "kind": "hdd"}]}""", false)]
    public void Paths(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));
}
