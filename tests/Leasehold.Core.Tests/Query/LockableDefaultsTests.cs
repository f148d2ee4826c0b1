using System.Text.Json;
using Leasehold.Core.Query;

namespace Leasehold.Core.Tests.Query;

/// <summary>py-lockable's predicate: this host and online by default, overridable, removable with null.</summary>
public class LockableDefaultsTests
{
    [Theory]
    [InlineData("""{}""", """{"hostname":"h1","online":true}""")]
    [InlineData("""{"os": "linux"}""", """{"hostname":"h1","online":true,"os":"linux"}""")]
    // The user's value replaces a default in its place.
    [InlineData("""{"online": false}""", """{"hostname":"h1","online":false}""")]
    [InlineData("""{"os": "linux", "hostname": "h2"}""", """{"hostname":"h2","online":true,"os":"linux"}""")]
    [InlineData("""{"online": {"$in": [true, false]}}""", """{"hostname":"h1","online":{"$in":[true,false]}}""")]
    // null removes hostname or online, and only those.
    [InlineData("""{"online": null}""", """{"hostname":"h1"}""")]
    [InlineData("""{"hostname": null}""", """{"online":true}""")]
    [InlineData("""{"hostname": null, "online": null, "os": null}""", """{"os":null}""")]
    // A shallow update: a nested object replaces, it does not merge.
    [InlineData("""{"hw": {"cpu": "arm"}}""", """{"hostname":"h1","online":true,"hw":{"cpu":"arm"}}""")]
    public void Applies_the_defaults(string requirements, string expected)
    {
        var predicate = LockableDefaults.Apply(QueryAssert.Json(requirements), "h1");
        Assert.True(Requirement.TryCompile(predicate, out var requirement, out var error), error);
        Assert.Equal(expected, requirement.Text);
    }

    [Theory]
    // By default only online resources of this host match; a resource without those fields never does.
    [InlineData("""{}""", """{"id": 1, "hostname": "h1", "online": true}""", true)]
    [InlineData("""{}""", """{"id": 1, "hostname": "h2", "online": true}""", false)]
    [InlineData("""{}""", """{"id": 1, "hostname": "h1", "online": false}""", false)]
    [InlineData("""{}""", """{"id": 1}""", false)]
    // True == 1, so an online of 1 counts as online.
    [InlineData("""{}""", """{"id": 1, "hostname": "h1", "online": 1}""", true)]
    // False stays a constraint: it selects offline resources only.
    [InlineData("""{"online": false}""", """{"id": 1, "hostname": "h1", "online": false}""", true)]
    [InlineData("""{"online": false}""", """{"id": 1, "hostname": "h1", "online": true}""", false)]
    [InlineData("""{"online": false}""", """{"id": 1, "hostname": "h1"}""", false)]
    // null lifts the constraint entirely.
    [InlineData("""{"online": null}""", """{"id": 1, "hostname": "h1", "online": false}""", true)]
    [InlineData("""{"online": null}""", """{"id": 1, "hostname": "h1"}""", true)]
    [InlineData("""{"hostname": null}""", """{"id": 1, "hostname": "elsewhere", "online": true}""", true)]
    [InlineData("""{"hostname": null, "online": null}""", """{"id": 1}""", true)]
    [InlineData("""{"hostname": "h2"}""", """{"id": 1, "hostname": "h2", "online": true}""", true)]
    public void The_predicate_selects_as_py_lockable_does(string requirements, string attributes, bool expected)
    {
        var predicate = LockableDefaults.Apply(QueryAssert.Json(requirements), "h1");
        Assert.True(Requirement.TryCompile(predicate, out var requirement, out var error), error);
        Assert.Equal(expected, requirement.Matches(QueryAssert.Json(attributes)));
    }

    [Fact]
    public void Works_with_the_shorthand_too()
    {
        Assert.True(RequirementText.TryParse("online=false&hw.cpu=arm", out var query, out _));
        var predicate = LockableDefaults.Apply(query, "lab-7");
        Assert.True(Requirement.TryCompile(predicate, out var requirement, out _));
        Assert.Equal("""{"hostname":"lab-7","online":false,"hw":{"cpu":"arm"}}""", requirement.Text);
    }

    [Fact]
    public void Undefined_or_null_requirements_are_no_requirements()
    {
        Assert.Equal("""{"hostname":"h","online":true}""", Text(LockableDefaults.Apply(default, "h")));
        Assert.Equal("""{"hostname":"h","online":true}""", Text(LockableDefaults.Apply(QueryAssert.Json("null"), "h")));
    }

    [Fact]
    public void Requirements_that_are_not_an_object_are_refused() =>
        Assert.Throws<ArgumentException>(() => LockableDefaults.Apply(QueryAssert.Json("[1]"), "h"));

    [Fact]
    public void The_result_outlives_the_input_document()
    {
        JsonElement predicate;
        using (var document = JsonDocument.Parse("""{"os": "linux"}"""))
        {
            predicate = LockableDefaults.Apply(document.RootElement, "h");
        }
        Assert.Equal("linux", predicate.GetProperty("os").GetString());
    }

    private static string Text(JsonElement element) => element.GetRawText();
}
