using System.Text.Json;
using System.Xml.Linq;
using CsCheck;
using Leasehold.Fuzz.Generators;
using Leasehold.Fuzz.Harness;
using Leasehold.Fuzz.Targets;
using Leasehold.Protocol;

namespace Leasehold.Fuzz.Tests;

/// <summary>
/// The generators are structure-aware: a fair share of their inputs gets past the first parser to the code
/// behind it. Were they to drift into producing only garbage, the targets would pass without testing much.
/// </summary>
public sealed class GeneratorCoverageTests
{
    private const int Samples = 2_000;

    private static T[] Sample<T>(Gen<T> gen) => [.. Enumerable.Range(0, Samples).Select(i => gen.Generate(FuzzRunner.InputPcg(1, i), null!, out _))];

    private static double Share<T>(IEnumerable<T> items, Func<T, bool> test) => items.Count(test) / (double)Samples;

    [Fact]
    public void TheValidLogTheStorageTargetsDamageHoldsTheAdministratorsCommands()
    {
        // The log and snapshot targets damage what the real writer wrote: a tag missing from it is a record
        // kind whose reader is never fuzzed.
        var (segment, records, _) = ValidStorage.Build();
        var dir = Directory.CreateTempSubdirectory("leasehold-fuzz-tags-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, Path.GetFileName(LogFileName())), segment);
            var seen = new HashSet<Type>();
            Leasehold.Storage.LogReader.Replay(dir, 0, (_, command) => seen.Add(command.GetType()));
            Assert.True(records > 0);
            foreach (var type in new[] { typeof(Core.RevokeLease), typeof(Core.EndSession), typeof(Core.DrainPrefix), typeof(Core.UndrainPrefix), typeof(Core.AcquireLease), typeof(Core.OpenSession) })
            {
                Assert.Contains(type, seen);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string LogFileName()
    {
        // The segment's file name as the store writes it, found by writing one.
        var dir = Directory.CreateTempSubdirectory("leasehold-fuzz-name-").FullName;
        try
        {
            using (var store = Leasehold.Storage.DataStore.Open(dir))
            {
                using var buffer = new Leasehold.Storage.LogBuffer();
                buffer.Append(store.NextIndex++, new Core.Tick { Now = 1 });
                store.Write(buffer);
                store.Sync();
            }
            return Leasehold.Storage.LogReader.Segments(dir).Single().Path;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AcquireBodiesOftenDeserialize()
    {
        var acquires = Sample(HttpJsonTarget.Inputs).Where(r => r.Route == JsonRoute.Acquire).Select(r => r.Body).ToArray();
        var read = acquires.Count(body =>
        {
            try
            {
                return JsonSerializer.Deserialize(body, ProtocolJsonContext.Default.AcquireRequest) is { Path: not null } or { Pool: not null };
            }
            catch (JsonException)
            {
                return false;
            }
        });

        Assert.InRange(read / (double)acquires.Length, 0.10, 0.95);
    }

    [Fact]
    public void XmlRpcBodiesAreOftenMethodCalls()
    {
        var calls = Share(Sample(XmlText.Document), body =>
        {
            try
            {
                return XDocument.Load(new MemoryStream(body)).Root?.Name == "methodCall";
            }
            catch (System.Xml.XmlException)
            {
                return false;
            }
        });

        Assert.InRange(calls, 0.30, 0.95);
    }

    [Fact]
    public void IdServerLinesAreOftenGetsAndPuts()
    {
        var requests = Sample(IdServerText.Stream).SelectMany(b => System.Text.Encoding.UTF8.GetString(b).Split('\n')).ToArray();
        var valid = requests.Count(line =>
        {
            try
            {
                using var json = JsonDocument.Parse(line);
                return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("action", out var action) && action.ValueKind == JsonValueKind.String
                    && action.GetString() is "get" or "put" && json.RootElement.TryGetProperty("owner", out _);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                return false;
            }
        });

        // Lines include the empty ones between doubled separators and after the last one.
        Assert.InRange(valid / (double)requests.Length, 0.05, 0.95);
    }

    [Fact]
    public void DamagedLogsTakeManyShapes()
    {
        var segments = Sample(StorageInput.Generator(50)).Select(LogTarget.Bytes).ToArray();
        var first = segments.Select(s => s.Length).Distinct().Count();

        // Many different shapes, and not one of them the undamaged segment every time.
        Assert.True(first > Samples / 10, $"only {first} distinct lengths");
    }
}
