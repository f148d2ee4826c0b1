using System.Globalization;
using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// A dotted field path such as <c>hw.disks.0.size</c>, split once at compile time, with mongoquery's
/// two ways of following it: <see cref="Extract"/> for values (its <c>_extract</c>) and
/// <see cref="Exists"/> for <c>$exists</c> (its <c>_path_exists</c>).
/// </summary>
internal sealed class FieldPath
{
    private readonly string[] _names;

    // The segment as an array index (Python's int(segment) for extraction), or null if it is not one.
    private readonly long?[] _indexes;

    // Whether the segment is all digits (Python's str.isdigit(), which _path_exists uses instead).
    private readonly bool[] _digits;

    public FieldPath(string dotted)
    {
        _names = dotted.Split('.');
        _indexes = [.. _names.Select(ParseIndex)];
        _digits = [.. _names.Select(name => name.Length > 0 && name.All(char.IsAsciiDigit))];
    }

    // An optional '-' and ASCII digits; a negative index counts from the end, as in Python. Digits too
    // many for a long can only be out of range, so they become an index no array reaches.
    private static long? ParseIndex(string segment)
    {
        var digits = segment.StartsWith('-') ? segment.AsSpan(1) : segment.AsSpan();
        if (digits.Length == 0 || digits.IndexOfAnyExceptInRange('0', '9') >= 0)
        {
            return null;
        }
        return long.TryParse(segment, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index)
            ? index
            : segment.StartsWith('-') ? long.MinValue : long.MaxValue;
    }

    /// <summary>
    /// The value at the path: objects are entered by key, a numeric segment indexes an array, any other
    /// segment applied to an array is applied to each element and yields a projection (one value per
    /// element). A null on the way yields null, as in mongoquery. An index out of range anywhere makes
    /// the whole field missing (mongoquery catches the IndexError around the whole extraction).
    /// </summary>
    public Value Extract(in Value root) => TryExtract(root, 0, out var value) ? value : Value.Missing;

    private bool TryExtract(Value entry, int segment, out Value result)
    {
        for (; segment < _names.Length; segment++)
        {
            if (entry.IsMissing)
            {
                result = Value.Missing;
                return true;
            }
            if (entry.IsArray)
            {
                if (_indexes[segment] is not { } index)
                {
                    return TryProject(entry, segment, out result);
                }
                var length = entry.ArrayLength;
                var position = index < 0 ? index + length : index;
                if (position < 0 || position >= length)
                {
                    result = Value.Missing;
                    return false;
                }
                entry = entry.ItemAt((int)position);
                continue;
            }
            entry.TryGetElement(out var element);
            if (element.ValueKind == JsonValueKind.Null)
            {
                result = entry;
                return true;
            }
            if (element.ValueKind != JsonValueKind.Object || !JsonStrings.TryGetProperty(element, _names[segment], out var child))
            {
                result = Value.Missing;
                return true;
            }
            entry = Value.Of(child);
        }
        result = entry;
        return true;
    }

    // Applies the rest of the path to every element; nested arrays nest projections, as in mongoquery.
    private bool TryProject(in Value array, int segment, out Value result)
    {
        var items = new Value[array.ArrayLength];
        var i = 0;
        foreach (var item in array.Items)
        {
            if (!TryExtract(item, segment, out items[i++]))
            {
                result = Value.Missing;
                return false;
            }
        }
        result = Value.Projection(items);
        return true;
    }

    /// <summary>
    /// Whether the path leads to a value (null counts): through objects by key, through arrays by an
    /// all-digit index, and through arrays without one when any element has the rest of the path.
    /// </summary>
    public bool Exists(in Value root) => ExistsFrom(root, 0);

    private bool ExistsFrom(Value entry, int segment)
    {
        for (; segment < _names.Length; segment++)
        {
            if (entry.IsArray)
            {
                if (!_digits[segment])
                {
                    foreach (var item in entry.Items)
                    {
                        if (ExistsFrom(item, segment))
                        {
                            return true;
                        }
                    }
                    return false;
                }
                if (_indexes[segment] is not { } index || index >= entry.ArrayLength)
                {
                    return false;
                }
                entry = entry.ItemAt((int)index);
            }
            else if (entry.TryGetElement(out var element) && element.ValueKind == JsonValueKind.Object
                && JsonStrings.TryGetProperty(element, _names[segment], out var child))
            {
                entry = Value.Of(child);
            }
            else
            {
                return false;
            }
        }
        return true;
    }
}
