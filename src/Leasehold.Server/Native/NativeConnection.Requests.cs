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

    private static bool TryGroups(in AcquireMessage message, ref AcquireRequest body, out Refusal refusal)
    {
        refusal = default;
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
                    refusal = new Refusal(ErrorCodes.InvalidJson, $"groups[{i}].require is not JSON: {ex.Message}");
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

    /// <summary>
    /// Writes a LEASE answer to an ACQUIRE; false when the client never sees it: the connection is gone, or the lease
    /// does not fit the peer's frame even without attributes (answered ERROR <c>frame-too-large</c> instead).
    /// </summary>
    private bool WriteLease(uint id, in NativeLease lease)
    {
        var message = lease;
        return TryFit(id, ref message) && TryWriteGrant(id, message, lease.Id, lease.SessionId == 0 ? null : lease.SessionId);
    }

    /// <summary>The same for a grant after a wait (mapped by the engine host).</summary>
    private bool WriteLease(uint id, LeaseDto lease)
    {
        var message = ToMessage(lease);
        return TryFit(id, ref message) && TryWriteGrant(id, message, lease.Id, lease.Session);
    }

    /// <summary>
    /// A grant nobody saw (refused as too large, or the connection is gone): no longer watched by this connection, and
    /// released at once, as HTTP does (GrantDelivery), unless <paramref name="reused"/> (it existed before, and stays;
    /// unwatched all the same, or a closed connection would be held for as long as it lives). Never throws: the request
    /// is already answered.
    /// </summary>
    private async Task ForgetGrantAsync(long leaseId, bool reused)
    {
        try
        {
            await shared.Host.ForgetUndeliveredGrantAsync(leaseId, this, reused).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Not leading any more, or stopping: the lease ends by its ttl or its session, as any other would.
            shared.Logger.LogDebug(ex, "An undelivered native grant could not be released");
        }
    }

    /// <summary>
    /// A LEASE the peer can take: as it is, or, when a pool lease's resource attributes make it larger than
    /// <c>maxFrameBytes</c>, with each resource's path and group only (docs/protocol.md, LEASE). When even that is too
    /// large, answers ERROR <c>frame-too-large</c> and says false.
    /// </summary>
    private bool TryFit(uint id, ref NativeLease lease)
    {
        if (!Fits(lease.PayloadSize))
        {
            lease = lease with { Resources = WithoutAttributes(lease.Resources) };
        }
        return Fits(lease.PayloadSize) || TooLarge(id);
    }

    /// <inheritdoc cref="TryFit(uint, ref NativeLease)"/>
    private bool TryFit(uint id, ref LeaseMessage lease)
    {
        if (!Fits(lease.PayloadSize))
        {
            lease = lease with { Resources = WithoutAttributes(lease.Resources) };
        }
        return Fits(lease.PayloadSize) || TooLarge(id);
    }

    private bool Fits(int payloadSize) => payloadSize + NativeProtocol.MinLength <= shared.Options.MaxFrameBytes;

    private bool TooLarge(uint id)
    {
        WriteError(id, NativeProtocol.FrameTooLarge, 413,
            $"the lease's answer is larger than a frame ({shared.Options.MaxFrameBytes} bytes, Leasehold:Native:MaxFrameBytes) even without its resources' attributes; ask for fewer or shorter paths or resources");
        return false;
    }

    /// <summary>A pool lease's <c>resources</c> JSON with each resource's path and group, its attributes left out (null).</summary>
    private static byte[]? WithoutAttributes(byte[]? resources)
    {
        if (resources is null)
        {
            return null;
        }
        var chosen = JsonSerializer.Deserialize(resources, ProtocolJsonContext.Default.ChosenResourceDtoArray) ?? [];
        return JsonSerializer.SerializeToUtf8Bytes([.. chosen.Select(static r => r with { Attributes = null })], ProtocolJsonContext.Default.ChosenResourceDtoArray);
    }

    private bool TryWriteGrant<T>(uint id, in T message, long leaseId, long? session) where T : struct, INativeMessage<T>
    {
        lock (_write)
        {
            if (_dead || _closed.IsCancellationRequested)
            {
                return false;
            }
            NativeFrames.Write(_output, id, message);
            _answered.Add(leaseId);
            if (session is { } bound)
            {
                _leaseSessions[leaseId] = bound;
            }
            if (_heldPushes.Remove(leaseId, out var reason))
            {
                WritePush(leaseId, reason);
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

    /// <summary>HTTP's request limits for one of the hot requests: its permit kept until it is answered.</summary>
    private bool Admit(Request request) => Admit(request.Id, out request.Permit);

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

    /// <summary>A shared check's refusal, as the ERROR HTTP's problem would be (same code, status and detail).</summary>
    private void Refuse(uint id, Refusal refusal)
        => Fail(id, refusal.Code, (ushort)Problems.All[refusal.Code].Status, refusal.Detail);

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

    /// <summary>
    /// Under _write: a session this connection closed is forgotten once none of its leases' endings is still to come
    /// (they may be told before or after the close's own answer), so a long-lived connection keeps no trace of it.
    /// </summary>
    private void ForgetClosedIfDone(long sessionId)
    {
        if (!_leaseSessions.ContainsValue(sessionId))
        {
            _closedSessions.Remove(sessionId);
        }
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
                _watchedSessions.Remove(id);
            }
            else
            {
                if (reason == EndReason.SessionEnded && _leaseSessions.TryGetValue(id, out var session) && _closedSessions.Contains(session))
                {
                    _leaseSessions.Remove(id);
                    _answered.Remove(id);
                    ForgetClosedIfDone(session);
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
