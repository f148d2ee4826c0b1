namespace Leasehold.Core.Tests;

public class PathTests : EngineTestBase
{
    public static TheoryData<string, int> ValidPaths => new()
    {
        { "/", 0 },
        { "/a", 1 },
        { "/a b", 1 },
        { "/ü", 1 },
        { "/\U0001F600", 1 },
        { "/a/b/c", 3 },
        { "/.a/..b/...", 3 },
        { "/a%2Fb", 1 },
        { "/" + new string('x', 255), 1 },
        { string.Concat(Enumerable.Repeat("/s", 32)), 32 },
    };

    public static TheoryData<string?> InvalidPaths => new()
    {
        null,
        "",
        "a",
        "a/b",
        "//",
        "/a/",
        "/a//b",
        "/./x",
        "/.",
        "/a/..",
        "/a\u0000b",
        "/a\tb",
        "/a\nb",
        "/\u007f",
        "/\u0085",
        "/" + new string('x', 256),
        string.Concat(Enumerable.Repeat("/s", 33)),
    };

    [Theory]
    [MemberData(nameof(ValidPaths))]
    public void Valid_paths_parse_and_keep_their_text(string text, int depth)
    {
        Assert.True(ResourcePath.TryParse(text, out var path, out var error), error);
        Assert.Equal(text, path.Value);
        Assert.Equal(text, path.ToString());
        Assert.Equal(depth, path.Depth);
        Assert.Equal(depth, path.Segments.Length);
    }

    [Theory]
    [MemberData(nameof(InvalidPaths))]
    public void Invalid_paths_are_rejected_with_a_reason(string? text)
    {
        Assert.False(ResourcePath.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Unpaired_surrogates_are_rejected()
    {
        // Not theory data: xunit's serialization of theory arguments would replace lone surrogates.
        foreach (var text in new[] { "/\ud800", "/x\udc00", "/\ude00\ud83d", "/a\ud83d/b", "/\ud83d\ud83d" })
        {
            Assert.False(ResourcePath.TryParse(text, out _, out var error), text);
            Assert.Contains("surrogate", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Root_is_the_path_without_segments()
    {
        Assert.Equal(ResourcePath.Root, P("/"));
        Assert.Empty(P("/").Segments);
        Assert.True(ResourcePath.TryFromSegments([], out var root, out _));
        Assert.Equal(ResourcePath.Root, root);
    }

    [Fact]
    public void Segments_are_split_on_slash()
    {
        Assert.Equal(["lab", "rack 2", "phone-7"], P("/lab/rack 2/phone-7").Segments);
    }

    [Fact]
    public void TryFromSegments_rejects_a_slash_inside_a_segment_and_builds_canonical_text()
    {
        Assert.False(ResourcePath.TryFromSegments(["a/b"], out _, out var error));
        Assert.Contains("'/'", error, StringComparison.Ordinal);
        Assert.True(ResourcePath.TryFromSegments(["a", "b"], out var path, out _));
        Assert.Equal("/a/b", path.Value);
        Assert.Equal(P("/a/b"), path);
    }

    [Fact]
    public void Comparison_is_ordinal_case_sensitive_and_not_normalized()
    {
        Assert.NotEqual(P("/A"), P("/a"));
        Assert.Equal(P("/a"), P("/a"));
        Assert.Equal(P("/a").GetHashCode(), P("/a").GetHashCode());
        // U+00E9 (composed) and e + U+0301 (decomposed) look alike but are different paths.
        Assert.NotEqual(P("/\u00e9"), P("/e\u0301"));
    }

    [Fact]
    public void Paths_differing_only_in_case_lock_independently()
    {
        Hold("/A");
        Hold("/a");
        Hold("/e\u0301");
        Assert.True(IsLockable("/\u00e9"));
        Assert.False(IsLockable("/A"));
        Assert.False(IsLockable("/a"));
        Assert.False(IsLockable("/A/x"));
        Assert.True(IsLockable("/B"));
    }

    [Fact]
    public void IsAncestorOrSelf_follows_segments_not_text_prefixes()
    {
        Assert.True(P("/").IsAncestorOrSelf(P("/a")));
        Assert.True(P("/a").IsAncestorOrSelf(P("/a")));
        Assert.True(P("/a").IsAncestorOrSelf(P("/a/b")));
        Assert.False(P("/a/b").IsAncestorOrSelf(P("/a")));
        Assert.False(P("/a").IsAncestorOrSelf(P("/ab")));
        Assert.False(P("/A").IsAncestorOrSelf(P("/a/b")));
    }

    [Fact]
    public void A_text_prefix_that_is_not_a_path_prefix_does_not_conflict()
    {
        Hold("/ab");
        Assert.True(IsLockable("/a"));
        Assert.True(IsLockable("/a/b"));
        Assert.True(IsLockable("/abc"));
    }
}
