using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Wire;

namespace Leasehold.Server.Engine;

/// <summary>
/// The lease requests of the HTTP API as typed work items: one object per request carries its arguments to the writer
/// and its answer back, with no closure or delegate made per request (the native port has its own items).
/// </summary>
public sealed partial class EngineHost
{
    /// <summary>Releases a lease with the hash of its token; its result once durable.</summary>
    internal Task<OperationResult<Lease>> ReleaseAsync(long leaseId, UInt128 tokenHash)
    {
        var item = new ReleaseItem(leaseId, tokenHash);
        Post(item);
        return item.Completion.Task;
    }

    /// <summary>Renews a lease for <paramref name="ttlMs"/>; the error, the lease as the API shows it, and the detail, once durable.</summary>
    internal Task<(ErrorCode Error, LeaseDto? Lease, string? Detail)> RenewAsync(long leaseId, UInt128 tokenHash, long ttlMs)
    {
        var item = new RenewItem(leaseId, tokenHash, ttlMs);
        Post(item);
        return item.Completion.Task;
    }

    /// <summary>A work item answered with a value computed on the writer.</summary>
    private abstract class ValueItem<T> : WorkItem
    {
        private T? _result;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public sealed override void Run(Writer writer) => _result = Compute(writer);

        public sealed override void Complete() => Completion.TrySetResult(_result!);

        public sealed override void Fail(Exception error) => Completion.TrySetException(error);

        protected abstract T Compute(Writer writer);
    }

    private sealed class ReleaseItem(long leaseId, UInt128 tokenHash) : ValueItem<OperationResult<Lease>>
    {
        protected override OperationResult<Lease> Compute(Writer writer)
            => writer.Run(new ReleaseLease { Now = writer.Now, LeaseId = leaseId, Token = tokenHash }, static (e, c) => e.Release(c));
    }

    private sealed class RenewItem(long leaseId, UInt128 tokenHash, long ttlMs) : ValueItem<(ErrorCode, LeaseDto?, string?)>
    {
        protected override (ErrorCode, LeaseDto?, string?) Compute(Writer writer)
        {
            var result = writer.Run(new RenewLease { Now = writer.Now, LeaseId = leaseId, Token = tokenHash, TtlMs = ttlMs }, static (e, c) => e.Renew(c));
            return (result.Error, result.Value is { } lease ? Dtos.ToDto(lease, writer.Engine) : null, result.Detail);
        }
    }

    private sealed class AcquireItem(EngineHost host, AcquireSpec spec, IEndWatcher? watcher) : ValueItem<Started>
    {
        protected override Started Compute(Writer writer)
            => host.Start(writer, spec.Command(writer.Now, spec.Token), spec.ByIdempotencyKey, watcher);
    }
}
