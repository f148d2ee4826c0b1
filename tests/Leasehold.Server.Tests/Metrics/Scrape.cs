using System.Globalization;
using System.Net;
using System.Text;

namespace Leasehold.Server.Tests.Metrics;

/// <summary>One sample of Prometheus' text format: a series name, its labels and its value.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A parsed <c>GET /metrics</c>, with ways to look a series up by name and some of its labels.</summary>
public sealed class Scrape(IReadOnlyList<Sample> samples)
{
    public IReadOnlyList<Sample> Samples { get; } = samples;

    public static async Task<Scrape> TakeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics answered {(int)response.StatusCode}: {text}");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return Parse(text);
    }

    /// <summary>The sum of the series named <paramref name="name"/> whose labels include all of <paramref name="labels"/> ("k=v"); 0 if none.</summary>
    public double Sum(string name, params string[] labels)
        => Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l[..l.IndexOf('=')], out var v) && v == l[(l.IndexOf('=') + 1)..]))
            .Sum(s => s.Value);

    public bool Has(string name) => Samples.Any(s => s.Name == name);

    public static Scrape Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var i = 0;
            while (i < line.Length && line[i] != '{' && line[i] != ' ')
            {
                i++;
            }
            var name = line[..i];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (i < line.Length && line[i] == '{')
            {
                i++;
                while (line[i] != '}')
                {
                    var eq = line.IndexOf('=', i);
                    var key = line[i..eq];
                    Assert.Equal('"', line[eq + 1]);
                    var value = new StringBuilder();
                    var j = eq + 2;
                    for (; line[j] != '"'; j++)
                    {
                        if (line[j] == '\\')
                        {
                            j++;
                            value.Append(line[j] == 'n' ? '\n' : line[j]);
                            continue;
                        }
                        value.Append(line[j]);
                    }
                    labels[key] = value.ToString();
                    i = j + 1;
                    if (line[i] == ',')
                    {
                        i++;
                    }
                }
                i++;
            }
            var rest = line[i..].Trim().Split(' ')[0];
            var number = rest switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(rest, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(name, labels, number));
        }
        return new Scrape(samples);
    }
}
