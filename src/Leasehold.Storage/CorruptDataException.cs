namespace Leasehold.Storage;

/// <summary>
/// The data directory holds something that cannot be read without losing acknowledged data. Start-up
/// stops with this message, which names the file and the byte offset.
/// </summary>
public sealed class CorruptDataException : Exception
{
    public CorruptDataException(string file, long offset, string problem)
        : base($"{Path.GetFileName(file)} at offset {offset}: {problem}")
    {
        File = file;
        Offset = offset;
    }

    public CorruptDataException()
    {
        File = "";
    }

    public CorruptDataException(string message)
        : base(message)
    {
        File = "";
    }

    public CorruptDataException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = "";
    }

    private CorruptDataException(string file, long offset, string message, bool lossAcceptable)
        : base(message)
    {
        File = file;
        Offset = offset;
        LossAcceptable = lossAcceptable;
    }

    /// <summary>
    /// Files the manifest lists are gone or emptied (<paramref name="message"/> names them, the first being
    /// <paramref name="file"/>). The operator may accept the loss and start from what is there.
    /// </summary>
    public static CorruptDataException MissingData(string file, string message) => new(file, 0, message, lossAcceptable: true);

    /// <summary>Records that should be at <paramref name="offset"/> of <paramref name="file"/> read as zeros; the loss may be accepted as for a missing file.</summary>
    public static CorruptDataException MissingData(string file, long offset, string message) => new(file, offset, message, lossAcceptable: true);

    public string File { get; }

    public long Offset { get; }

    /// <summary>True when starting with the loss accepted (<c>--accept-data-loss</c>) would start from what is left.</summary>
    public bool LossAcceptable { get; }
}
