using System.Globalization;
using System.Text.Json;
using System.Threading.RateLimiting;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Protocol;
using Leasehold.Protocol.Native;
using Leasehold.Server.Engine;
using Leasehold.Server.Http;
using Leasehold.Server.Security;
using Leasehold.Server.Wire;

namespace Leasehold.Server.Native;

internal sealed partial class NativeConnection
{
    private const long MaxTtlMs = 366L * 86400 * 1000;
    private const long MaxWaitMs = 86400L * 1000;
    private const long DefaultSessionTtlMs = 30_000;
    private const long MaxSessionTtlMs = 86400L * 1000;

    // Under _write: sessions this connection closed itself (their leases' endings are its own doing), and the
    // session of each lease it was granted, to tell the two apart.
    private readonly HashSet<long> _closedSessions = [];
    private readonly Dictionary<long, long> _leaseSessions = [];

    private async Task AcquireAsync(uint id, AcquireMessage message, InFlight entry)
    {
        RateLimitLease? permit = null;
        try
        {
            if (!Admit(id, out permit))
            {
                return;
            }
            var flags = message.Flags;
            var body = new AcquireRequest
            {
                Path = message.Paths.Length == 1 ? message.Paths[0] : null,
                Paths = message.Paths.Length > 1 ? message.Paths : null,
                Owner = message.Owner,
                Mode = (flags & AcquireFlags.Shared) != 0 ? "shared" : null,
                Limit = message.Limit == -1 ? null : message.Limit,
                Ttl = message.TtlMs == -1 ? null : message.TtlMs / 1000.0,
                Wait = message.WaitMs / 1000.0,
                Session = message.SessionId == 0 ? null : (long)message.SessionId,
                LockParents = (flags & AcquireFlags.LockParents) != 0,
                LockChildren = (flags & AcquireFlags.LockChildren) != 0,
                Reuse = (flags & AcquireFlags.Reuse) != 0 ? true : null,
                IdempotencyKey = message.IdempotencyKey,
            };
            if (message.TtlMs is < -1 or 0 or > MaxTtlMs || message.WaitMs is < 0 or > MaxWaitMs || message.SessionId > long.MaxValue)
            {
                Fail(id, ErrorCodes.InvalidArgument, 400, "ttlMs is -1 or 1 to 366 days, waitMs 0 to 86400000, sessionId a lease's session");
                return;
            }
            if (message.Groups.Length > 0 && !TryGroups(message, ref body, out var groupProblem))
            {
                Fail(id, groupProblem.Code, (ushort)groupProblem.Status, groupProblem.Detail);
                return;
            }
            if (!LeaseEndpoints.TryBuild(body, _principal, out var build, out var scope, out ProblemDto? problem))
            {
                Fail(id, problem!.Code, (ushort)problem.Status, problem.Detail);
                return;
            }
            if (shared.SecurityOn && await Access.CheckAsync(shared.Services, _user, Right.Lock, scope, "native", "ACQUIRE") is { } denied)
            {
                Deny(id, denied);
                return;
            }
            var token = entry.Cancel?.Token ?? _closed.Token;
            AcquireOutcome outcome;
            try
            {
                outcome = await shared.Host.AcquireAsync(build, token, byIdempotencyKey: message.IdempotencyKey is not null, watcher: this).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // A CANCEL, or the connection closed: the waiter has left the queue.
                Fail(id, NativeProtocol.Cancelled, 499, "cancelled by CANCEL");
                return;
            }
            if (outcome.Lease is { } lease)
            {
                if (!TryWriteLease(id, lease) && !outcome.Reused)
                {
                    // Nobody will ever see this token: release the lease now, as HTTP does (GrantDelivery).
                    await shared.Host.ReleaseUndeliveredAsync(lease.Id).ConfigureAwait(false);
                }
                End(id);
                return;
            }
            byte[]? extensions = outcome.Error == ErrorCode.Locked && outcome.Blockers is { } blockers
                ? HoldersJson(blockers)
                : null;
            var code = Problems.Code(outcome.Error);
            Fail(id, code, (ushort)Problems.All[code].Status, outcome.Detail, -1, extensions);
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
        finally
        {
            permit?.Dispose();
        }
    }

    private static bool TryGroups(AcquireMessage message, ref AcquireRequest body, out ProblemDto problem)
    {
        problem = null!;
        var groups = new GroupRequest[message.Groups.Length];
        for (var i = 0; i < groups.Length; i++)
        {
            var spec = message.Groups[i];
            JsonElement? require = null;
            if (spec.Require is { } json)
            {
                try
                {
                    using var document = JsonDocument.Parse(json);
                    require = document.RootElement.Clone();
                }
                catch (JsonException ex)
                {
                    problem = Problems.Create(ErrorCodes.InvalidJson, $"groups[{i}].require is not JSON: {ex.Message}");
                    return false;
                }
            }
            groups[i] = new GroupRequest { Pool = spec.Pool, Require = require, Count = spec.Count <= 0 ? null : spec.Count };
        }
        body = body with { Groups = groups };
        return true;
    }

    private static byte[] HoldersJson(LeaseDto[] holders)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WritePropertyName("holders");
            JsonSerializer.Serialize(json, holders, ProtocolJsonContext.Default.LeaseDtoArray);
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>Writes a LEASE answer; false when the connection is gone (the grant did not reach anyone).</summary>
    private bool TryWriteLease(uint id, LeaseDto lease)
    {
        var message = ToMessage(lease);
        lock (_write)
        {
            if (_dead || _closed.IsCancellationRequested)
            {
                return false;
            }
            NativeFrames.Write(_output, id, message);
            if (lease.Token is not null)
            {
                _answered.Add(lease.Id);
                if (lease.Session is { } session)
                {
                    _leaseSessions[lease.Id] = session;
                }
                if (_heldPushes.Remove(lease.Id, out var reason))
                {
                    WritePush(lease.Id, reason);
                }
            }
            return true;
        }
    }

    private static LeaseMessage ToMessage(LeaseDto lease) => new()
    {
        Id = (ulong)lease.Id,
        Fence = (ulong)lease.Fence,
        Token = lease.Token,
        Owner = lease.Owner,
        Principal = lease.Principal,
        Flags = (lease.Mode == "shared" ? LeaseFlags.Shared : LeaseFlags.None)
            | (lease.LockParents ? LeaseFlags.LockParents : LeaseFlags.None)
            | (lease.LockChildren ? LeaseFlags.LockChildren : LeaseFlags.None),
        Paths = lease.Paths,
        Limit = lease.Limit ?? -1,
        TtlMs = lease.Ttl is { } ttl ? (long)Math.Round(ttl * 1000) : -1,
        AcquiredAt = lease.AcquiredAt.ToUnixTimeMilliseconds(),
        ExpiresAt = lease.ExpiresAt?.ToUnixTimeMilliseconds() ?? -1,
        SessionId = (ulong)(lease.Session ?? 0),
        WaitedMs = (long)Math.Round(lease.Waited * 1000),
        Resources = lease.Resources is { } resources ? JsonSerializer.SerializeToUtf8Bytes(resources, ProtocolJsonContext.Default.ChosenResourceDtoArray) : null,
    };

    private async Task ReleaseAsync(uint id, ReleaseMessage message)
    {
        try
        {
            if (!Admit(id, out var permit) || !TryToken(id, message.Token, out var token))
            {
                permit?.Dispose();
                return;
            }
            using (permit)
            {
                var leaseId = (long)message.LeaseId;
                if (shared.SecurityOn && await LeaseAccess.CheckAsync(shared.Services, _user, shared.Host, leaseId, Right.Lock, ownOnly: true, "native", "RELEASE") is { } denied)
                {
                    Deny(id, denied);
                    return;
                }
                var hash = Tokens.Hash(token);
                var result = await shared.Host.ExecuteAsync(w =>
                {
                    var released = w.Run(new ReleaseLease { Now = w.Now, LeaseId = leaseId, Token = hash }, (e, c) => e.Release(c));
                    if (released.Error == ErrorCode.None)
                    {
                        // Its own release: no LEASE_ENDED for it (the watch goes before the ending is collected).
                        w.Unwatch(EndedKind.Lease, leaseId, this);
                    }
                    return released;
                }).ConfigureAwait(false);
                if (result.Error != ErrorCode.None)
                {
                    FailEngine(id, result.Error, result.Detail);
                    return;
                }
                lock (_write)
                {
                    _answered.Remove(leaseId);
                    _leaseSessions.Remove(leaseId);
                    if (!_dead)
                    {
                        NativeFrames.Write(_output, id, new OkMessage());
                    }
                }
                End(id);
            }
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    private async Task RenewAsync(uint id, RenewMessage message)
    {
        try
        {
            if (!Admit(id, out var permit) || !TryToken(id, message.Token, out var token))
            {
                permit?.Dispose();
                return;
            }
            using (permit)
            {
                if (message.TtlMs is < -1 or 0 or > MaxTtlMs)
                {
                    Fail(id, ErrorCodes.InvalidArgument, 400, "ttlMs is -1 (keep the lease's) or 1 to 366 days");
                    return;
                }
                var leaseId = (long)message.LeaseId;
                if (shared.SecurityOn && await LeaseAccess.CheckAsync(shared.Services, _user, shared.Host, leaseId, Right.Lock, ownOnly: true, "native", "RENEW") is { } denied)
                {
                    Deny(id, denied);
                    return;
                }
                var hash = Tokens.Hash(token);
                var ttl = message.TtlMs == -1 ? 0 : message.TtlMs;
                var (error, lease, detail) = await shared.Host.ExecuteAsync(w =>
                {
                    var result = w.Run(new RenewLease { Now = w.Now, LeaseId = leaseId, Token = hash, TtlMs = ttl }, (e, c) => e.Renew(c));
                    return (result.Error, result.Value is { } l ? Dtos.ToDto(l, w.Engine) : null, result.Detail);
                }).ConfigureAwait(false);
                AnswerLease(id, error, lease, detail);
            }
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    private async Task GetLeaseAsync(uint id, GetLeaseMessage message)
    {
        try
        {
            if (!Admit(id, out var permit))
            {
                return;
            }
            using (permit)
            {
                var leaseId = (long)message.LeaseId;
                if (shared.SecurityOn && await LeaseAccess.CheckAsync(shared.Services, _user, shared.Host, leaseId, Right.Read, ownOnly: false, "native", "GET_LEASE") is { } denied)
                {
                    Deny(id, denied);
                    return;
                }
                var lease = await shared.Host.ExecuteAsync(w => w.Engine.GetLease(leaseId) is { } l ? Dtos.ToDto(l, w.Engine) : null).ConfigureAwait(false);
                AnswerLease(id, lease is null ? ErrorCode.NotFound : ErrorCode.None, lease,
                    $"lease {message.LeaseId} is not held (never granted, released, or expired)");
            }
        }
        catch (Exception ex)
        {
            FailUnexpected(id, ex);
        }
    }

    private void AnswerLease(uint id, ErrorCode error, LeaseDto? lease, string? detail)
    {
        if (error != ErrorCode.None || lease is null)
        {
            FailEngine(id, error, detail);
            return;
        }
        var message = ToMessage(lease);
        lock (_write)
        {
            if (!_dead)
            {
                NativeFrames.Write(_output, id, message);
            }
        }
        End(id);
    }

    private bool TryToken(uint id, string text, out UInt128 token)
    {
        if (text.Length == 32 && UInt128.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out token))
        {
            return true;
        }
        token = default;
        Fail(id, ErrorCodes.InvalidToken, 403, "the token is 32 hexadecimal digits");
        return false;
    }

    /// <summary>HTTP's request limits, shared with it: false (and the ERROR written) when the principal is over them.</summary>
    private bool Admit(uint id, out RateLimitLease? permit)
    {
        permit = null;
        if (shared.Limiter is not { } limiter)
        {
            return true;
        }
        permit = limiter.AttemptAcquire(LimitContext());
        if (permit.IsAcquired)
        {
            return true;
        }
        var retry = permit.TryGetMetadata(MetadataName.RetryAfter, out var after) ? (long)Math.Ceiling(after.TotalMilliseconds) : -1;
        permit.Dispose();
        permit = null;
        var who = _principal ?? $"anonymous callers from {connection.RemoteEndPoint}";
        Fail(id, ErrorCodes.RateLimited, 429, retry < 0
            ? $"{who} has too many requests in progress (Leasehold:Limits:MaxPendingPerPrincipal)"
            : $"{who} sent too many requests in a second (Leasehold:Limits:RequestsPerSecondPerPrincipal)", retry);
        return false;
    }

    private DefaultHttpContext? _limitContext;

    /// <summary>The connection as HTTP's limiter sees a request: its principal, or its address when anonymous.</summary>
    private DefaultHttpContext LimitContext()
    {
        if (_limitContext is { } made)
        {
            return made;
        }
        var context = new DefaultHttpContext { User = _user };
        context.Request.Path = "/native";
        if (connection.RemoteEndPoint is System.Net.IPEndPoint remote)
        {
            context.Connection.RemoteIpAddress = remote.Address;
        }
        return _limitContext = context;
    }

    private void Deny(uint id, Denial denied)
        => Fail(id, denied.Code, (ushort)Problems.All[denied.Code].Status, denied.Detail);

    private void FailEngine(uint id, ErrorCode error, string? detail)
    {
        var code = Problems.Code(error);
        Fail(id, code, (ushort)Problems.All[code].Status, detail);
    }

    private void FailUnexpected(uint id, Exception ex)
    {
        switch (ex)
        {
            case Limits.QuotaExceededException quota:
                Fail(id, quota.Code, (ushort)Problems.All[quota.Code].Status, quota.Message);
                return;
            case NotLeaderException notLeader:
                _ = NoLeaderAsync(id, notLeader.Message);
                return;
            case ObjectDisposedException or OperationCanceledException when shared.Host.WriterFailure is null:
                Fail(id, ErrorCodes.ShuttingDown, 503, "the server is shutting down");
                return;
            default:
                shared.Logger.LogError(ex, "A native request failed");
                Fail(id, ErrorCodes.Internal, 500, "the server failed to handle the request; it is logged");
                return;
        }
    }

    /// <summary>no-leader, with the leader's native address when this node knows it (docs/protocol.md, cluster).</summary>
    private async Task NoLeaderAsync(uint id, string detail)
    {
        byte[]? extensions = null;
        if (shared.Node is { } node)
        {
            try
            {
                if (await node.LeaderMetadataAsync(NativeListener.EndPointMetadata, _closed.Token).ConfigureAwait(false) is { } leader)
                {
                    extensions = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["leader"] = leader }, NativeJsonContext.Default.DictionaryStringString);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
            {
                // Unknown: the client retries after retryAfterMs.
            }
        }
        Fail(id, ErrorCodes.NoLeader, 503, detail, 1000, extensions);
    }

    /// <summary>Told by the engine host, once durable: a lease or session this connection watches has ended.</summary>
    public void OnEnded(EndedKind kind, long id, EndReason reason)
    {
        lock (_write)
        {
            if (_dead)
            {
                return;
            }
            if (kind == EndedKind.Session)
            {
                // (Its own SESSION_CLOSE stopped the watch: this is someone else's doing, or time's.)
                NativeFrames.Write(_output, 0, new SessionEndedMessage((ulong)id, reason switch
                {
                    EndReason.Expired => "expired",
                    EndReason.Revoked => "ended-by-admin",
                    _ => "closed",
                }));
                ForgetBound(id);
            }
            else
            {
                if (reason == EndReason.SessionEnded && _leaseSessions.TryGetValue(id, out var session) && _closedSessions.Contains(session))
                {
                    _leaseSessions.Remove(id);
                    _answered.Remove(id);
                    return;
                }
                if (!_answered.Contains(id))
                {
                    // Its LEASE is not written yet: the push follows it.
                    _heldPushes[id] = reason;
                    return;
                }
                WritePush(id, reason);
            }
        }
        RequestFlush();
    }

    /// <summary>Under _write.</summary>
    private void WritePush(long leaseId, EndReason reason)
    {
        _answered.Remove(leaseId);
        _leaseSessions.Remove(leaseId);
        NativeFrames.Write(_output, 0, new LeaseEndedMessage((ulong)leaseId, reason switch
        {
            EndReason.Expired => "expired",
            EndReason.Revoked => "revoked",
            EndReason.SessionEnded => "session-ended",
            _ => "released",
        }));
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class NativeJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
