using System.Globalization;
using System.Text;

namespace Leasehold.Storage;

/// <summary>
/// What the data directory must hold, so that a deleted or emptied file is noticed instead of starting as a
/// server that forgot its leases: the snapshot in use, the first index of every log segment, and the last
/// record known durable when the manifest was written. It is rewritten (temporary file, fsync, rename,
/// directory fsync) when a segment is created, when a snapshot replaces segments, and at start-up; not per
/// record, so <see cref="Through"/> lags the log's end by up to one segment.
/// <para>Text, one <c>key value</c> per line, ending with the CRC-32C of everything before that line:</para>
/// <code>
/// leasehold manifest 1
/// snapshot 120000
/// through 120000
/// segment 120001
/// crc32c 1a2b3c4d
/// </code>
/// </summary>
internal sealed record Manifest(long SnapshotIndex, long Through, IReadOnlyList<long> Segments)
{
    public const string FirstLine = "leasehold manifest 1";

    public string Encode()
    {
        var text = new StringBuilder();
        text.Append(FirstLine).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"snapshot {SnapshotIndex}\n");
        text.Append(CultureInfo.InvariantCulture, $"through {Through}\n");
        foreach (var first in Segments)
        {
            text.Append(CultureInfo.InvariantCulture, $"segment {first}\n");
        }
        var body = text.ToString();
        return body + $"crc32c {Crc32C.Compute(Encoding.UTF8.GetBytes(body)):x8}\n";
    }

    /// <summary>The manifest of <paramref name="dir"/>, or null when it has none (a new directory, or one from a version without manifests).</summary>
    public static Manifest? Read(string dir)
    {
        var path = Path.Combine(dir, LogFormat.ManifestFile);
        if (!File.Exists(path))
        {
            return null;
        }
        var bytes = File.ReadAllBytes(path);
        var text = Encoding.UTF8.GetString(bytes);
        var crcLine = text.LastIndexOf("crc32c ", StringComparison.Ordinal);
        if (!text.StartsWith(FirstLine + "\n", StringComparison.Ordinal) || crcLine < 0 || !text.EndsWith('\n')
            || !uint.TryParse(text.AsSpan(crcLine + 7, text.Length - crcLine - 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var crc)
            || Crc32C.Compute(Encoding.UTF8.GetBytes(text[..crcLine])) != crc)
        {
            throw new CorruptDataException(path, 0, "the manifest does not verify (bad first line or checksum)");
        }
        long snapshot = -1, through = -1;
        var segments = new List<long>();
        foreach (var line in text[(FirstLine.Length + 1)..crcLine].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0 || !long.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                throw new CorruptDataException(path, 0, $"the manifest line \"{line}\" is not a name and a number");
            }
            switch (line[..space])
            {
                case "snapshot":
                    snapshot = value;
                    break;
                case "through":
                    through = value;
                    break;
                case "segment":
                    segments.Add(value);
                    break;
                default:
                    throw new CorruptDataException(path, 0, $"the manifest line \"{line}\" is unknown to this server");
            }
        }
        if (snapshot < 0 || through < 0)
        {
            throw new CorruptDataException(path, 0, "the manifest lacks its snapshot or through line");
        }
        segments.Sort();
        return new Manifest(snapshot, through, segments);
    }

    /// <summary>Replaces the manifest of <paramref name="dir"/> so that a crash leaves the old one or this one, whole.</summary>
    public void Write(string dir)
    {
        var path = Path.Combine(dir, LogFormat.ManifestFile);
        var tmp = path + ".tmp";
        using (var file = PrivateFiles.Create(tmp, FileMode.Create, FileAccess.Write, bufferSize: 0))
        {
            file.Write(Encoding.UTF8.GetBytes(Encode()));
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        NativeFile.SyncDirectory(dir);
    }
}
