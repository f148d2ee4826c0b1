using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// Python's <c>==</c> and <c>in</c> between an attribute value and a query literal, which is what
/// mongoquery uses for plain values, <c>$eq</c>, <c>$ne</c>, <c>$in</c> and <c>$nin</c>:
/// numbers compare numerically (1 == 1.0), and because Python's bool is an int, <c>true == 1</c> and
/// <c>false == 0</c> hold (so <c>"online": 1</c> matches <c>"online": true</c>); strings compare
/// ordinally; null equals only null; arrays are equal element by element; objects are equal when
/// they have the same keys with equal values (exact, not the subset rule of plain query objects).
/// A missing value equals nothing.
/// </summary>
internal static class PyEquality
{
    public static bool AreEqual(in Value value, Constant constant)
    {
        if (value.IsMissing)
        {
            return false;
        }
        if (value.TryGetElement(out var element))
        {
            return AreEqual(element, constant);
        }
        // A projection is a Python list: equal only to an array of the same length and equal elements.
        if (!constant.IsArray || value.ArrayLength != constant.Items.Length)
        {
            return false;
        }
        var index = 0;
        foreach (var item in value.Items)
        {
            if (!AreEqual(item, constant.Items[index++]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Python's <c>constant in value</c> for an array or projection: some element equals it.</summary>
    public static bool Contains(in Value array, Constant constant)
    {
        foreach (var item in array.Items)
        {
            if (AreEqual(item, constant))
            {
                return true;
            }
        }
        return false;
    }

    private static bool AreEqual(JsonElement element, Constant constant)
    {
        if (constant.Number is { } number)
        {
            return PyNumber.TryFrom(element, out var actual) && PyNumber.Compare(actual, number) == 0;
        }
        switch (constant.Kind)
        {
            case JsonValueKind.String:
                return element.ValueKind == JsonValueKind.String && JsonStrings.Equal(element, constant.String!);
            case JsonValueKind.Null:
                return element.ValueKind == JsonValueKind.Null;
            case JsonValueKind.Array:
                return element.ValueKind == JsonValueKind.Array && ArrayEquals(element, constant.Items);
            default:
                return element.ValueKind == JsonValueKind.Object && ObjectEquals(element, constant.Members);
        }
    }

    private static bool ArrayEquals(JsonElement array, Constant[] items)
    {
        if (array.GetArrayLength() != items.Length)
        {
            return false;
        }
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (!AreEqual(item, items[index++]))
            {
                return false;
            }
        }
        return true;
    }

    private static bool ObjectEquals(JsonElement obj, KeyValuePair<string, Constant>[] members)
    {
        if (obj.GetPropertyCount() != members.Length)
        {
            return false;
        }
        foreach (var (name, expected) in members)
        {
            if (!JsonStrings.TryGetProperty(obj, name, out var actual) || !AreEqual(actual, expected))
            {
                return false;
            }
        }
        return true;
    }
}
