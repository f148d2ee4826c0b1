using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>
/// What a matcher looks at: a JSON value, nothing at all (a missing field), or a projection. A
/// projection is the list that mongoquery builds when a path segment meets an array without a numeric
/// index: one extracted value per element, missing ones included. It behaves as an array everywhere
/// (containment, <c>$size</c>, <c>$elemMatch</c>, <c>$type: "array"</c>), exactly like mongoquery's
/// Python list, and costs an allocation only on that path.
/// </summary>
internal readonly struct Value
{
    private readonly JsonElement _element;
    private readonly Value[]? _projection;
    private readonly bool _present;

    private Value(JsonElement element, Value[]? projection)
    {
        _element = element;
        _projection = projection;
        _present = true;
    }

    /// <summary>A missing field (mongoquery's <c>_Undefined</c>): equal to nothing, of no type.</summary>
    public static Value Missing => default;

    public static Value Of(JsonElement element) => new(element, null);

    public static Value Projection(Value[] items) => new(default, items);

    public bool IsMissing => !_present;

    public bool IsArray => _projection is not null || (_present && _element.ValueKind == JsonValueKind.Array);

    /// <summary>The JSON value, when this is neither missing nor a projection.</summary>
    public bool TryGetElement(out JsonElement element)
    {
        element = _element;
        return _present && _projection is null;
    }

    public int ArrayLength => _projection?.Length ?? _element.GetArrayLength();

    /// <summary>Element <paramref name="index"/> of an array; the caller checks the bounds.</summary>
    public Value ItemAt(int index) => _projection is not null ? _projection[index] : Of(_element[index]);

    /// <summary>The elements of an array or projection, without allocating.</summary>
    public ValueItems Items => _projection is not null ? new ValueItems(_projection) : new ValueItems(_element.EnumerateArray());
}

/// <summary>A struct enumerator over <see cref="Value.Items"/>, so <c>foreach</c> allocates nothing.</summary>
internal struct ValueItems
{
    private readonly Value[]? _projection;
    private JsonElement.ArrayEnumerator _array;
    private int _index;

    public ValueItems(Value[] projection)
    {
        _projection = projection;
        _array = default;
        _index = -1;
    }

    public ValueItems(JsonElement.ArrayEnumerator array)
    {
        _projection = null;
        _array = array;
        _index = -1;
    }

    public readonly ValueItems GetEnumerator() => this;

    public readonly Value Current => _projection is not null ? _projection[_index] : Value.Of(_array.Current);

    public bool MoveNext() => _projection is not null ? ++_index < _projection.Length : _array.MoveNext();
}
