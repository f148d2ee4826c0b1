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

    public string File { get; }

    public long Offset { get; }
}
