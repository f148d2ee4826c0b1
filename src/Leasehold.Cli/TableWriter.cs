namespace Leasehold.Cli;

/// <summary>Plain-text columns, each as wide as its widest cell, two spaces apart.</summary>
internal sealed class TableWriter(params string[] headers)
{
    private readonly List<string[]> _rows = [headers];

    public int Count => _rows.Count - 1;

    public void Add(params string[] cells) => _rows.Add(cells);

    public void Write(TextWriter output, string indent = "")
    {
        var widths = new int[headers.Length];
        foreach (var row in _rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        foreach (var row in _rows)
        {
            var line = string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i])));
            output.WriteLine(indent + line.TrimEnd());
        }
    }
}
