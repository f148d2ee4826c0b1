using Leasehold.Core;

namespace Leasehold.Fuzz.Targets;

/// <summary>Engines with declared resources for pool requests to match against, and a clock that only moves forward.</summary>
internal static class EngineFixture
{
    public const long T0 = 1_700_000_000_000;

    /// <summary>Attributes of every JSON type, so a requirement meets numbers, strings, lists, objects and nulls.</summary>
    private static readonly string[] Declared =
    [
        """{"os": "android", "online": true, "n": 5, "tags": ["a", "b"], "model": {"b": 1}}""",
        """{"os": "ios", "online": false, "n": -1.5, "tags": [], "id": "r1"}""",
        """{"os": null, "n": 9223372036854775807, "tags": [["a"], {"b": 2}], "id": 7}""",
        """{"id": "r3", "n": 1e300, "model": "pixel-8", "\u00e9": "\ud83d\ude00"}""",
        """{}""",
    ];

    public static LockEngine Create(ResourcePath pool, long now)
    {
        var engine = new LockEngine();
        for (var i = 0; i < Declared.Length; i++)
        {
            var path = Path($"{pool.Value}/r{i}");
            engine.Declare(new DeclareResource { Now = now, Path = path, Attributes = Declared[i] });
        }
        engine.Declare(new DeclareResource { Now = now, Path = Path($"{pool.Value}/sub/r9"), Attributes = Declared[0] });
        return engine;
    }

    public static ResourcePath Path(string text) => ResourcePath.TryParse(text, out var path, out var error)
        ? path
        : throw new ArgumentException($"{text}: {error}", nameof(text));
}
