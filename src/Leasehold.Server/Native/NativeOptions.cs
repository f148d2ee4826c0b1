using System.ComponentModel;
using Leasehold.Protocol.Native;

namespace Leasehold.Server.Native;

/// <summary>Settings under <c>Leasehold:Native</c>: the native protocol's listener (docs/protocol.md).</summary>
public sealed class NativeOptions
{
    public const string Section = "Leasehold:Native";

    [Description("serve the native protocol (docs/protocol.md)")]
    public bool Enabled { get; set; } = true;

    /// <summary>Null: the HTTP port plus one (8766 beside the default 8765), or 0 (a free port) when HTTP's is 0.</summary>
    [Description("the native protocol's port; unset: HTTP's port + 1 (0 when HTTP's is 0); 0 a free port; -1 off")]
    public int? Port { get; set; }

    [Description("the largest native frame either way, in bytes")]
    public int MaxFrameBytes { get; set; } = NativeProtocol.DefaultMaxFrameBytes;

    [Description("native requests in flight per connection; beyond it the server stops reading")]
    public int MaxInFlight { get; set; } = NativeProtocol.DefaultMaxInFlight;

    [Description("a native connection must send HELLO within this time")]
    public double HandshakeSeconds { get; set; } = 10;

    /// <summary>Checks the values; a wrong one stops start-up naming it.</summary>
    public void Validate()
    {
        if (Port is < -1 or > 65535)
        {
            throw new InvalidDataException($"{Section}:Port {Port} is not a port (0 to 65535, or -1 for off)");
        }
        if (MaxFrameBytes is < 1024 or > 16 << 20)
        {
            throw new InvalidDataException($"{Section}:MaxFrameBytes {MaxFrameBytes} is not from 1024 to 16777216");
        }
        if (MaxInFlight is < 1 or > 65536)
        {
            throw new InvalidDataException($"{Section}:MaxInFlight {MaxInFlight} is not from 1 to 65536");
        }
        if (!(HandshakeSeconds >= 0.1 && HandshakeSeconds <= 3600))
        {
            throw new InvalidDataException($"{Section}:HandshakeSeconds {HandshakeSeconds} is not from 0.1 to 3600");
        }
    }
}
