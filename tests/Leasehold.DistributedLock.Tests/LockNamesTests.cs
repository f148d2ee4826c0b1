using Leasehold.Core;

namespace Leasehold.DistributedLock.Tests;

/// <summary>The name → segment mapping: every name gives a valid segment, and different names different segments.</summary>
public sealed class LockNamesTests
{
    [Theory]
    [InlineData("nightly-report", "nightly-report")]
    [InlineData("", "%")]
    [InlineData(".", "%2E")]
    [InlineData("..", "%2E%2E")]
    [InlineData("...", "...")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("50%", "50%25")]
    [InlineData("%2F", "%252F")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("del\u007f\u0085", "del%7F%85")]
    [InlineData("日本 ü", "日本 ü")]
    [InlineData("\U0001F512", "\U0001F512")]
    public void A_name_maps_to_its_documented_segment(string name, string segment)
        => Assert.Equal(segment, LeaseholdLockNames.ToSegment(name));

    [Fact]
    public void An_unpaired_surrogate_is_escaped_with_its_code()
    {
        // Not as InlineData: a lone surrogate does not survive the test runner's serialization of arguments.
        Assert.Equal("lone%uD800", LeaseholdLockNames.ToSegment("lone\ud800"));
        Assert.Equal("%uDC00x", LeaseholdLockNames.ToSegment("\udc00x"));
        Assert.Equal("%uDC00%uD800", LeaseholdLockNames.ToSegment("\udc00\ud800"));
    }

    [Fact]
    public void A_name_too_long_for_one_segment_is_hashed()
    {
        var longest = new string('a', 255);
        Assert.Equal(longest, LeaseholdLockNames.ToSegment(longest));

        var hashed = LeaseholdLockNames.ToSegment(longest + "a");
        Assert.StartsWith("%sha256-", hashed, StringComparison.Ordinal);
        Assert.Equal(8 + 64, hashed.Length);
        // Escapes count: 100 slashes are 300 characters escaped.
        Assert.StartsWith("%sha256-", LeaseholdLockNames.ToSegment(new string('/', 100)), StringComparison.Ordinal);
    }

    [Fact]
    public void Names_that_look_like_escapes_or_hashes_do_not_collide_with_them()
    {
        var tricky = new[]
        {
            "", "%", "%%", ".", "..", "%2E", "%2E%2E", "%25", "/", "%2F", "%uD800", "\ud800", "%sha256-",
            LeaseholdLockNames.ToSegment(new string('x', 300)), new string('x', 300), new string('x', 301),
        };
        var segments = tricky.Select(LeaseholdLockNames.ToSegment).ToList();
        Assert.Equal(segments.Count, segments.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Random_names_give_valid_distinct_segments()
    {
        // A fixed seed: the same names every run. Characters are drawn to hit every rule: controls, '/', '%', '.',
        // surrogates (paired or not), and ordinary text; lengths cross the 255 limit.
        var random = new Random(20260515);
        char[] alphabet = ['a', 'b', '.', '/', '%', '2', 'E', 'F', 'u', '\0', '\n', '\u007f', '\u0085', 'ü', '日', '\ud83d', '\udd12', ' '];
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < 5000; i++)
        {
            var length = random.Next(4) == 0 ? random.Next(200, 320) : random.Next(0, 6);
            var name = new string([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            var segment = LeaseholdLockNames.ToSegment(name);

            Assert.True(ResourcePath.TryParse("/distributed-lock/locks/" + segment, out _, out var error), $"'{segment}' for a name of {name.Length}: {error}");
            if (seen.TryGetValue(segment, out var other))
            {
                Assert.Equal(other, name);
            }
            seen[segment] = name;
        }
    }
}
