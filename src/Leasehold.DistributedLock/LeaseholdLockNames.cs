using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Leasehold.DistributedLock;

/// <summary>
/// How a lock's name becomes one segment of a Leasehold path. Any string is a valid name, and two different names
/// never share a segment:
/// <list type="bullet">
/// <item>a character a segment cannot hold, or that would make the mapping ambiguous — <c>%</c>, <c>/</c>, a control
/// character (U+0000–U+001F, U+007F–U+009F) — is written <c>%XX</c> (its code, two upper-case hex digits); an unpaired
/// surrogate is written <c>%uXXXX</c>; every other character stays as it is;</item>
/// <item>the names <c>.</c> and <c>..</c> become <c>%2E</c> and <c>%2E%2E</c>, and the empty name becomes <c>%</c>;</item>
/// <item>a name whose escaped form is longer than 255 characters (a segment's limit) becomes <c>%sha256-</c> and the
/// 64 lower-case hex digits of the SHA-256 of its UTF-16 code units (little-endian).</item>
/// </list>
/// The escaped form decodes back to the name (every <c>%</c> in it starts an escape), and the two special forms start
/// with <c>%</c> not followed by a hex digit or <c>u</c>, which no escaped name contains, so only two long names whose
/// SHA-256 collide could share a segment.
/// </summary>
public static class LeaseholdLockNames
{
    /// <summary>A segment's longest length, in UTF-16 code units.</summary>
    public const int MaxSegmentLength = 255;

    /// <summary>The segment that stands for <paramref name="name"/>.</summary>
    public static string ToSegment(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        switch (name)
        {
            case "":
                return "%";
            case ".":
                return "%2E";
            case "..":
                return "%2E%2E";
        }
        var builder = new StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c is '%' or '/' || char.IsControl(c))
            {
                builder.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                builder.Append(c).Append(name[++i]);
            }
            else if (char.IsSurrogate(c))
            {
                builder.Append("%u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
            if (builder.Length > MaxSegmentLength)
            {
                return Hashed(name);
            }
        }
        return builder.ToString();
    }

    private static string Hashed(string name)
    {
        var units = new byte[name.Length * 2];
        for (var i = 0; i < name.Length; i++)
        {
            units[2 * i] = (byte)name[i];
            units[(2 * i) + 1] = (byte)(name[i] >> 8);
        }
        return "%sha256-" + Convert.ToHexStringLower(SHA256.HashData(units));
    }
}
