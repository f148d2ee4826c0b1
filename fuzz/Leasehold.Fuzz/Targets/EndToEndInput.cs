namespace Leasehold.Fuzz.Targets;

/// <summary>Where an end-to-end input goes.</summary>
public enum Channel
{
    /// <summary>A JSON route over HTTP (<see cref="EndToEndInput.Route"/>).</summary>
    Json,

    /// <summary>lockd's XML-RPC endpoint over HTTP.</summary>
    XmlRpc,

    /// <summary>One idserver UDP datagram.</summary>
    Datagram,

    /// <summary>One idserver TCP connection: the bytes, then the end of the stream.</summary>
    Tcp,
}

public sealed record EndToEndInput(Channel Channel, JsonRoute Route, byte[] Body)
{
    public override string ToString() => $"{Channel} {(Channel == Channel.Json ? Route + " " : "")}{Printing.Text(Body)}";
}
