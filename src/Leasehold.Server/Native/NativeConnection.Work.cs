using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Threading.RateLimiting;
using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Protocol.Native;
using Leasehold.Server.Engine;
using Leasehold.Server.Http;
using Leasehold.Server.Security;
using Microsoft.AspNetCore.Connections;

namespace Leasehold.Server.Native;

/// <summary>
/// The hot path: ACQUIRE, RELEASE, RENEW and GET_LEASE. Each request in flight is one <see cref="Request"/>, reused
/// once answered, which is also its own work item on the writer: checked on the reading thread, built into the
/// command on the writer (stamped with its clock), and answered by <see cref="WorkItem.Complete"/> on the thread that
/// completes the batch, written straight into the connection's output (no closure, no task, no DTO); the connection
/// flushes once when the batch's answers are all written.
/// </summary>
internal sealed partial class NativeConnection
{
    private enum Work : byte
    {
        None,
        Acquire,
        Release,
        Renew,
        GetLease,
    }

    /// <summary>One request in flight: its id, how to cancel it (ACQUIRE that waits), and for the hot messages its work.</summary>
    private sealed class Request(NativeConnection connection) : WorkItem
    {
        public uint Id;
        public CancellationTokenSource? Cancel;

        /// <summary>A CANCEL that targets this request: answered OK once this request is answered.</summary>
        public uint CancelledBy;

        public Work Work;
        public AcquireSpec Spec;
        public long LeaseId;
        public UInt128 TokenHash;
        public long TtlMs;
        public RateLimitLease? Permit;

        // Set on the writer, read when the batch completes.
        public ErrorCode Error;
        public string? Detail;
        public NativeLease Lease;
        public bool HasLease;
        public bool Reused;
        public EngineHost.PendingAcquire? Pending;
        public AcquireOutcome? Refused;

        public override void Run(Writer writer) => connection.Apply(this, writer);

        public override void Complete() => connection.Completed(this);

        public override void Fail(Exception error) => connection.Failed(this, error);

        public void Reset()
        {
            Id = 0;
            Cancel = null;
            CancelledBy = 0;
            Work = Work.None;
            Spec = default;
            LeaseId = 0;
            TokenHash = default;
            TtlMs = 0;
            Permit = null;
            Error = ErrorCode.None;
            Detail = null;
            Lease = default;
            HasLease = false;
            Reused = false;
            Pending = null;
            Refused = null;
        }
    }

    /// <summary>ACQUIRE: checked here, built from the frame's milliseconds, queued on the writer.</summary>
    private void StartAcquire(Request request, in AcquireMessage message)
    {
        var id = request.Id;
        try
        {
            if (!Admit(request))
            {
                return;
            }
            if (message.TtlMs is < -1 or 0 or > MaxTtlMs || message.WaitMs is < 0 or > MaxWaitMs || message.SessionId > long.MaxValue)
            {
                Fail(id, ErrorCodes.InvalidArgument, 400, "ttlMs is -1 or 1 to 366 days, waitMs 0 to 86400000, sessionId a lease's session");
                return;
            }
            if (!(message.Groups.Length > 0 ? TryPoolSpec(message, out var spec, out var refusal) : TryPathSpec(message, out spec, out refusal)))
            {
                Refuse(id, refusal);
                return;
            }
            request.Spec = spec;
            request.Work = Work.Acquire;
            if (shared.SecurityOn)
            {
                var scope = spec.Groups is { } groups
                    ? new PathScope([.. groups.Select(g => g.Pool).Distinct()], Subtree: true)
                    : new PathScope(spec.Paths);
                _ = AuthorizeThenEnqueueAsync(request, Access.CheckAsync(shared.Services, _user, Right.Lock, scope, "native", "ACQUIRE"));
                return;
            }
            shared.Host.Enqueue(request);
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    /// <summary>A paths ACQUIRE, with HTTP's checks and messages, from the frame's fields as they are.</summary>
    private bool TryPathSpec(in AcquireMessage message, out AcquireSpec spec, out Refusal refusal)
    {
        spec = default;
        refusal = default;
        var texts = message.Paths;
        if (texts.Length == 0)
        {
            refusal = new Refusal(ErrorCodes.InvalidArgument, "path (or a non-empty paths array, or a pool) is required");
            return false;
        }
        var paths = new ResourcePath[texts.Length];
        for (var i = 0; i < paths.Length; i++)
        {
            if (!RequestReading.TryReadPath(texts[i], out paths[i], out refusal))
            {
                return false;
            }
        }
        var flags = message.Flags;
        var reuse = (flags & AcquireFlags.Reuse) != 0;
        if (!LeaseEndpoints.TryToken(message.IdempotencyKey, reuse, message.Owner, _principal, out var token, out refusal))
        {
            return false;
        }
        spec = new AcquireSpec
        {
            Paths = paths,
            Mode = (flags & AcquireFlags.Shared) != 0 ? LockMode.Shared : LockMode.Exclusive,
            Limit = message.Limit == -1 ? null : message.Limit,
            TtlMs = message.TtlMs == -1 ? 0 : message.TtlMs,
            WaitMs = message.WaitMs,
            SessionId = (long)message.SessionId,
            LockParents = (flags & AcquireFlags.LockParents) != 0,
            LockChildren = (flags & AcquireFlags.LockChildren) != 0,
            Owner = message.Owner,
            Principal = _principal,
            Reuse = reuse,
            Token = token,
            ByIdempotencyKey = message.IdempotencyKey is not null,
        };
        return true;
    }

    /// <summary>A pool ACQUIRE (rare): its groups through HTTP's checks, its durations from the frame's milliseconds.</summary>
    private bool TryPoolSpec(in AcquireMessage message, out AcquireSpec spec, out Refusal refusal)
    {
        spec = default;
        var flags = message.Flags;
        var body = new AcquireRequest
        {
            Path = message.Paths.Length == 1 ? message.Paths[0] : null,
            Paths = message.Paths.Length > 1 ? message.Paths : null,
            Owner = message.Owner,
            Mode = (flags & AcquireFlags.Shared) != 0 ? "shared" : null,
            Limit = message.Limit == -1 ? null : message.Limit,
            Session = message.SessionId == 0 ? null : (long)message.SessionId,
            LockParents = (flags & AcquireFlags.LockParents) != 0,
            LockChildren = (flags & AcquireFlags.LockChildren) != 0,
            Reuse = (flags & AcquireFlags.Reuse) != 0 ? true : null,
            IdempotencyKey = message.IdempotencyKey,
        };
        if (!TryGroups(message, ref body, out refusal)
            || !LeaseEndpoints.TryBuild(body, _principal, out spec, out _, out refusal))
        {
            return false;
        }
        spec.TtlMs = message.TtlMs == -1 ? 0 : message.TtlMs;
        spec.WaitMs = message.WaitMs;
        return true;
    }

    /// <summary>RELEASE, RENEW: the lease and its token read straight from the payload (no string for the token).</summary>
    private void StartWithToken(Request request, FrameType type, in ReadOnlySequence<byte> payload)
    {
        var id = request.Id;
        try
        {
            var withTtl = type == FrameType.Renew;
            if (!TryLeaseToken(payload, withTtl, out var leaseId, out var token, out var ttlMs))
            {
                // Not the plain shape (or not 32 hex digits): the codec says whether the frame or the token is wrong.
                string text;
                if (withTtl && NativeFrames.TryParse<RenewMessage>(payload, out var renew))
                {
                    (leaseId, text, ttlMs) = ((long)renew.LeaseId, renew.Token, renew.TtlMs);
                }
                else if (!withTtl && NativeFrames.TryParse<ReleaseMessage>(payload, out var release))
                {
                    (leaseId, text) = ((long)release.LeaseId, release.Token);
                }
                else
                {
                    InvalidFrame(id, type);
                    End(id);
                    return;
                }
                if (!Admit(request) || !TryToken(id, text, out token))
                {
                    return;
                }
            }
            else if (!Admit(request))
            {
                return;
            }
            if (withTtl && ttlMs is < -1 or 0 or > MaxTtlMs)
            {
                Fail(id, ErrorCodes.InvalidArgument, 400, "ttlMs is -1 (keep the lease's) or 1 to 366 days");
                return;
            }
            request.Work = withTtl ? Work.Renew : Work.Release;
            request.LeaseId = leaseId;
            request.TokenHash = Tokens.Hash(token);
            request.TtlMs = ttlMs == -1 ? 0 : ttlMs;
            if (shared.SecurityOn)
            {
                _ = AuthorizeThenEnqueueAsync(request, LeaseAccess.CheckAsync(shared.Services, _user, shared.Host, leaseId, Right.Lock, ownOnly: true,
                    "native", withTtl ? "RENEW" : "RELEASE"));
                return;
            }
            shared.Host.Enqueue(request);
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    /// <summary>GET_LEASE.</summary>
    private void StartGetLease(Request request, long leaseId)
    {
        var id = request.Id;
        try
        {
            if (!Admit(request))
            {
                return;
            }
            request.Work = Work.GetLease;
            request.LeaseId = leaseId;
            if (shared.SecurityOn)
            {
                _ = AuthorizeThenEnqueueAsync(request, LeaseAccess.CheckAsync(shared.Services, _user, shared.Host, leaseId, Right.Read, ownOnly: false, "native", "GET_LEASE"));
                return;
            }
            shared.Host.Enqueue(request);
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    /// <summary>
    /// The plain shape of RELEASE (<c>leaseId:u64 | token:str</c>) and RENEW (<c>… | ttlMs:i64</c>) with a token of 32
    /// ASCII hex digits, read from one span; false for anything else (the codec's reader then decides).
    /// </summary>
    private static bool TryLeaseToken(in ReadOnlySequence<byte> payload, bool withTtl, out long leaseId, out UInt128 token, out long ttlMs)
    {
        leaseId = ttlMs = 0;
        token = default;
        const int Digits = 32;
        var expected = 8 + 2 + Digits + (withTtl ? 8 : 0);
        if (!payload.IsSingleSegment || payload.Length != expected)
        {
            return false;
        }
        var span = payload.FirstSpan;
        if (BinaryPrimitives.ReadUInt16BigEndian(span[8..]) != Digits
            || !UInt128.TryParse(span.Slice(10, Digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out token))
        {
            return false;
        }
        leaseId = (long)BinaryPrimitives.ReadUInt64BigEndian(span);
        if (withTtl)
        {
            ttlMs = BinaryPrimitives.ReadInt64BigEndian(span[(10 + Digits)..]);
        }
        return true;
    }

    /// <summary>
    /// Security on: the check (which may read the engine) first, then the work. A refusal ends the request, which gives its
    /// rate-limit permit back (once: the request is in flight under its id).
    /// </summary>
    private async Task AuthorizeThenEnqueueAsync(Request request, ValueTask<Denial?> check)
    {
        try
        {
            if (await check.ConfigureAwait(false) is { } denied)
            {
                Deny(request.Id, denied);
                return;
            }
            shared.Host.Enqueue(request);
        }
        catch (Exception ex)
        {
            FailUnexpected(request.Id, ex);
        }
    }

    /// <summary>On the writer: applies the request's command and keeps what its answer needs.</summary>
    private void Apply(Request request, Writer writer)
    {
        switch (request.Work)
        {
            case Work.Acquire:
            {
                ref var spec = ref request.Spec;
                var step = shared.Host.StartAcquire(writer, spec.Command(writer.Now, Tokens.Hash(spec.Token)), spec.Token, spec.ByIdempotencyKey, this, answerInline: true);
                if (step.Lease is { } lease)
                {
                    request.Lease = NativeLease.From(lease, writer.Engine, spec.Token);
                    request.HasLease = true;
                    request.Reused = step.Reused;
                }
                request.Pending = step.Pending;
                request.Refused = step.Refused;
                return;
            }
            case Work.Release:
            {
                var result = writer.Run(new ReleaseLease { Now = writer.Now, LeaseId = request.LeaseId, Token = request.TokenHash }, static (e, c) => e.Release(c));
                if (result.Error == ErrorCode.None)
                {
                    // Its own release: no LEASE_ENDED for it (the watch goes before the ending is collected).
                    writer.Unwatch(EndedKind.Lease, request.LeaseId, this);
                }
                (request.Error, request.Detail) = (result.Error, result.Detail);
                return;
            }
            case Work.Renew:
            {
                var result = writer.Run(new RenewLease { Now = writer.Now, LeaseId = request.LeaseId, Token = request.TokenHash, TtlMs = request.TtlMs }, static (e, c) => e.Renew(c));
                (request.Error, request.Detail) = (result.Error, result.Detail);
                if (result.Value is { } lease)
                {
                    request.Lease = NativeLease.From(lease, writer.Engine, null);
                    request.HasLease = true;
                }
                return;
            }
            case Work.GetLease:
                if (writer.Engine.GetLease(request.LeaseId) is { } held)
                {
                    request.Lease = NativeLease.From(held, writer.Engine, null);
                    request.HasLease = true;
                    return;
                }
                (request.Error, request.Detail) = (ErrorCode.NotFound, $"lease {(ulong)request.LeaseId} is not held (never granted, released, or expired)");
                return;
        }
    }

    /// <summary>The batch is durable: the answer, written on this thread (never throws: the batch's other answers follow).</summary>
    private void Completed(Request request)
    {
        var id = request.Id;
        try
        {
            request.Permit?.Dispose();
            request.Permit = null;
            switch (request.Work)
            {
                case Work.Acquire when request.HasLease:
                    var lease = request.Lease;
                    var delivered = WriteLease(id, lease);
                    var reused = request.Reused;
                    End(id);
                    if (!delivered)
                    {
                        _ = ForgetGrantAsync(lease.Id, reused);
                    }
                    return;
                case Work.Acquire when request.Pending is { } pending:
                    _ = WaitGrantAsync(request, pending);
                    return;
                case Work.Acquire:
                    var refused = request.Refused!;
                    byte[]? extensions = refused.Error == ErrorCode.Locked && refused.Blockers is { } blockers ? HoldersJson(blockers) : null;
                    var code = Problems.Code(refused.Error);
                    Fail(id, code, (ushort)Problems.All[code].Status, refused.Detail, -1, extensions);
                    return;
                case Work.Release when request.Error == ErrorCode.None:
                    lock (_write)
                    {
                        _answered.Remove(request.LeaseId);
                        _leaseSessions.Remove(request.LeaseId);
                        if (!_dead)
                        {
                            NativeFrames.Write(_output, id, new OkMessage());
                        }
                    }
                    End(id);
                    return;
                case Work.Renew or Work.GetLease when request.HasLease:
                    var answer = request.Lease;
                    if (!TryFit(id, ref answer))
                    {
                        End(id);
                        return;
                    }
                    lock (_write)
                    {
                        if (!_dead)
                        {
                            NativeFrames.Write(_output, id, answer);
                        }
                    }
                    End(id);
                    return;
                default:
                    FailEngine(id, request.Error, request.Detail);
                    return;
            }
        }
        catch (Exception ex)
        {
            shared.Logger.LogError(ex, "A native answer could not be written");
            MarkDead();
            connection.Abort(new ConnectionAbortedException("a native answer could not be written"));
        }
    }

    /// <summary>The writer refused the request (not leading, a quota, stopping, a failed log): its ERROR.</summary>
    private void Failed(Request request, Exception error)
    {
        try
        {
            request.Permit?.Dispose();
            request.Permit = null;
            FailUnexpected(request.Id, error);
        }
        catch (Exception ex)
        {
            shared.Logger.LogError(ex, "A native answer could not be written");
            MarkDead();
            connection.Abort(new ConnectionAbortedException("a native answer could not be written"));
        }
    }

    /// <summary>An ACQUIRE queued in the engine: waits for its grant, a refusal, CANCEL or the connection's end.</summary>
    private async Task WaitGrantAsync(Request request, EngineHost.PendingAcquire pending)
    {
        var id = request.Id;
        try
        {
            var token = request.Cancel?.Token ?? _closed.Token;
            AcquireOutcome outcome;
            try
            {
                outcome = await shared.Host.WaitGrantAsync(pending, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // A CANCEL, or the connection closed: the waiter has left the queue. Granted before that reached the writer,
                // its lease was released unwatched; had it already ended, its push waits here for a LEASE never written.
                if (pending.GrantedLeaseId is { } granted)
                {
                    lock (_write)
                    {
                        _heldPushes.Remove(granted);
                    }
                }
                Fail(id, NativeProtocol.Cancelled, 499, "cancelled by CANCEL");
                return;
            }
            if (outcome.Lease is { } lease)
            {
                var delivered = WriteLease(id, lease);
                End(id);
                if (!delivered)
                {
                    await ForgetGrantAsync(lease.Id, outcome.Reused).ConfigureAwait(false);
                }
                return;
            }
            byte[]? extensions = outcome.Error == ErrorCode.Locked && outcome.Blockers is { } blockers ? HoldersJson(blockers) : null;
            var code = Problems.Code(outcome.Error);
            Fail(id, code, (ushort)Problems.All[code].Status, outcome.Detail, -1, extensions);
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }
}
