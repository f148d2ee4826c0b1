namespace Leasehold.Core.Tests.Query;

/// <summary>$mod with Python's %, $regex (a pattern or /pattern/flags), and $comment.</summary>
public class EvaluationMatchingTests
{
    [Theory]
    [InlineData("""{"n": {"$mod": [4, 1]}}""", """{"n": 25}""", true)]
    [InlineData("""{"n": {"$mod": [4, 1]}}""", """{"n": 26}""", false)]
    [InlineData("""{"n": {"$mod": [4, 0]}}""", """{"n": 0}""", true)]
    // Python's remainder takes the divisor's sign: -5 % 4 == 3, 5 % -4 == -3.
    [InlineData("""{"n": {"$mod": [4, 3]}}""", """{"n": -5}""", true)]
    [InlineData("""{"n": {"$mod": [4, -1]}}""", """{"n": -5}""", false)]
    [InlineData("""{"n": {"$mod": [-4, -3]}}""", """{"n": 5}""", true)]
    // Fractions are kept, and the remainder compares numerically.
    [InlineData("""{"n": {"$mod": [2, 1.5]}}""", """{"n": 5.5}""", true)]
    [InlineData("""{"n": {"$mod": [2, 1]}}""", """{"n": 5.0}""", true)]
    [InlineData("""{"n": {"$mod": [2, 0.5]}}""", """{"n": -5.5}""", true)]
    [InlineData("""{"n": {"$mod": [2, 1]}}""", """{"n": true}""", true)]
    [InlineData("""{"n": {"$mod": [7, 0]}}""", """{"n": 123456789012345678901234567890}""", true)]
    [InlineData("""{"n": {"$mod": [7, 2]}}""", """{"n": 123456789012345678901234567890}""", false)]
    public void Mod(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"name": {"$regex": "^gpu"}}""", """{"name": "gpu-01"}""", true)]
    [InlineData("""{"name": {"$regex": "^gpu"}}""", """{"name": "a-gpu"}""", false)]
    // A search, not a whole-string match.
    [InlineData("""{"name": {"$regex": "gpu"}}""", """{"name": "a-gpu-b"}""", true)]
    [InlineData("""{"name": {"$regex": "^GPU"}}""", """{"name": "gpu-01"}""", false)]
    [InlineData("""{"name": {"$regex": "/^GPU/i"}}""", """{"name": "gpu-01"}""", true)]
    [InlineData("""{"name": {"$regex": "/^b/m"}}""", """{"name": "a\nb"}""", true)]
    [InlineData("""{"name": {"$regex": "/^b/"}}""", """{"name": "a\nb"}""", false)]
    [InlineData("""{"name": {"$regex": "/a.b/s"}}""", """{"name": "a\nb"}""", true)]
    [InlineData("""{"name": {"$regex": "/a.b/"}}""", """{"name": "a\nb"}""", false)]
    [InlineData("""{"name": {"$regex": "/a b # comment/x"}}""", """{"name": "ab"}""", true)]
    [InlineData("""{"name": {"$regex": "/A.B/si"}}""", """{"name": "a\nb"}""", true)]
    // Slashes inside the pattern: the text after the last '/' is flags if it is 0-4 of imsx ("/dev/x" is
    // "dev" with flag x), otherwise the whole string is the pattern.
    [InlineData("""{"path": {"$regex": "/^/dev/sd/"}}""", """{"path": "/dev/sda"}""", true)]
    [InlineData("""{"path": {"$regex": "/dev/x"}}""", """{"path": "/dev/sda"}""", true)]
    [InlineData("""{"path": {"$regex": "/dev/q"}}""", """{"path": "/dev/sda"}""", false)]
    [InlineData("""{"path": {"$regex": "/dev/q"}}""", """{"path": "x/dev/q"}""", true)]
    [InlineData("""{"path": {"$regex": "/dev/sd"}}""", """{"path": "/dev/sda"}""", true)]
    // "//" has no pattern between the slashes, so it is itself the pattern.
    [InlineData("""{"s": {"$regex": "//"}}""", """{"s": "abc"}""", false)]
    [InlineData("""{"s": {"$regex": "//"}}""", """{"s": "a//b"}""", true)]
    // A value that is not a string never matches, a missing one neither.
    [InlineData("""{"n": {"$regex": "1"}}""", """{"n": 1}""", false)]
    [InlineData("""{"n": {"$regex": "1"}}""", """{}""", false)]
    [InlineData("""{"n": {"$regex": "a"}}""", """{"n": ["a"]}""", false)]
    public void Regex(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));

    [Theory]
    [InlineData("""{"$comment": "why", "os": "linux"}""", """{"os": "linux"}""", true)]
    [InlineData("""{"$comment": "why", "os": "linux"}""", """{"os": "bsd"}""", false)]
    [InlineData("""{"os": {"$comment": 1, "$eq": "linux"}}""", """{"os": "linux"}""", true)]
    public void Comment(string query, string attributes, bool expected) =>
        Assert.Equal(expected, QueryAssert.Matches(query, attributes));
}
