using Leasehold.Core;
using Leasehold.Server.Engine;
using Microsoft.Extensions.Logging.Abstractions;

namespace Leasehold.Fuzz.Targets;

/// <summary>The server's real writer (<see cref="EngineHost"/>) in memory mode: no disk, the same one-writer loop.</summary>
internal static class MemoryHost
{
    public static EngineHost Create(LockEngine engine) =>
        new(engine, null, new DurabilityOptions { Policy = FlushPolicy.Memory }, TimeProvider.System, NullLogger<EngineHost>.Instance);
}
