namespace Leasehold.Core;

/// <summary>
/// A validated resource path such as <c>/lab/rack-2/phone-7</c>. Segments are compared ordinally
/// (case-sensitive, no Unicode normalization), so two paths are equal exactly when their text is.
/// The root <c>/</c> has no segments.
/// </summary>
public sealed class ResourcePath : IEquatable<ResourcePath>
{
    /// <summary>Most segments a path may have.</summary>
    public const int MaxDepth = 32;

    /// <summary>Most UTF-16 code units one segment may have.</summary>
    public const int MaxSegmentLength = 255;

    public static readonly ResourcePath Root = new("/", []);

    private ResourcePath(string value, string[] segments)
    {
        Value = value;
        Segments = segments;
    }

    /// <summary>The canonical text, always starting with <c>/</c>, never ending with one (but for the root).</summary>
    public string Value { get; }

    public string[] Segments { get; }

    public int Depth => Segments.Length;

    /// <summary>Parses the textual form of a path; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? text, out ResourcePath path, out string error)
    {
        path = Root;
        if (string.IsNullOrEmpty(text))
        {
            error = "a path is required";
            return false;
        }
        if (text[0] != '/')
        {
            error = "a path starts with '/'";
            return false;
        }
        if (text.Length == 1)
        {
            error = "";
            return true;
        }
        var segments = text[1..].Split('/');
        return TryFromSegments(segments, out path, out error, text);
    }

    /// <summary>Builds a path from already separated (and already percent-decoded) segments.</summary>
    public static bool TryFromSegments(string[] segments, out ResourcePath path, out string error, string? text = null)
    {
        path = Root;
        if (segments.Length == 0)
        {
            error = "";
            return true;
        }
        if (segments.Length > MaxDepth)
        {
            error = $"a path has at most {MaxDepth} segments";
            return false;
        }
        foreach (var segment in segments)
        {
            if (!TryValidateSegment(segment, out error))
            {
                return false;
            }
        }
        path = new ResourcePath(text ?? "/" + string.Join('/', segments), segments);
        error = "";
        return true;
    }

    private static bool TryValidateSegment(string segment, out string error)
    {
        if (segment.Length == 0)
        {
            error = "a path has no empty segments (no '//' and no trailing '/')";
            return false;
        }
        if (segment is "." or "..")
        {
            error = "a path has no '.' or '..' segments";
            return false;
        }
        if (segment.Length > MaxSegmentLength)
        {
            error = $"a path segment has at most {MaxSegmentLength} characters";
            return false;
        }
        if (!WellFormedText.IsWellFormed(segment))
        {
            error = "a path segment " + WellFormedText.Refusal;
            return false;
        }
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            if (c == '/')
            {
                error = "a path segment cannot contain '/'";
                return false;
            }
            if (char.IsControl(c))
            {
                error = $"a path segment cannot contain the control character U+{(int)c:X4}";
                return false;
            }
            if (char.IsHighSurrogate(c) && i + 1 < segment.Length && char.IsLowSurrogate(segment[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
            {
                error = "a path segment cannot contain an unpaired surrogate";
                return false;
            }
        }
        error = "";
        return true;
    }

    /// <summary>True when this path is <paramref name="other"/> or one of its ancestors.</summary>
    public bool IsAncestorOrSelf(ResourcePath other)
    {
        if (Segments.Length > other.Segments.Length)
        {
            return false;
        }
        for (var i = 0; i < Segments.Length; i++)
        {
            if (!string.Equals(Segments[i], other.Segments[i], StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }

    public bool Equals(ResourcePath? other) => other is not null && string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as ResourcePath);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    public override string ToString() => Value;
}
