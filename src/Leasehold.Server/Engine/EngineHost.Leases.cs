using Leasehold.Core;
using Leasehold.Protocol;

namespace Leasehold.Server.Engine;

/// <summary>
/// The lease requests of the HTTP API as typed work items: one object per request carries its arguments to the writer
/// and its answer back, with no closure or delegate made per request (the native port has its own items).
/// </summary>
public sealed partial class EngineHost
{
    /// <summary>Releases a lease with the hash of its token; its result once durable.</summary>
    internal Task<OperationResult<Lease>> ReleaseAsync(long leaseId, UInt128 tokenHash) => Submit(new ReleaseItem(leaseId, tokenHash));

    /// <summary>Renews a lease for <paramref name="ttlMs"/>; the error, the lease as the API shows it, and the detail, once durable.</summary>
    internal Task<(ErrorCode Error, LeaseDto? Lease, string? Detail)> RenewAsync(long leaseId, UInt128 tokenHash, long ttlMs)
        => Submit<(ErrorCode, LeaseDto?, string?)>(new RenewItem(leaseId, tokenHash, ttlMs));

    private sealed class ReleaseItem(long leaseId, UInt128 tokenHash) : ValueItem<OperationResult<Lease>>
    {
        protected override OperationResult<Lease> Compute(Writer writer)
            => writer.Run(new ReleaseLease { Now = writer.Now, LeaseId = leaseId, Token = tokenHash }, static (e, c) => e.Release(c));
    }

    private sealed class RenewItem(long leaseId, UInt128 tokenHash, long ttlMs) : ValueItem<(ErrorCode, LeaseDto?, string?)>
    {
        protected override (ErrorCode, LeaseDto?, string?) Compute(Writer writer)
            => Answer(writer.Run(new RenewLease { Now = writer.Now, LeaseId = leaseId, Token = tokenHash, TtlMs = ttlMs }, static (e, c) => e.Renew(c)), writer.Engine);
    }

    private sealed class AcquireItem(EngineHost host, AcquireSpec spec, IEndWatcher? watcher) : ValueItem<Started>
    {
        protected override Started Compute(Writer writer)
            => host.StartAcquire(writer, spec.Command(writer.Now, spec.Token), spec.ByIdempotencyKey, watcher);
    }
}
