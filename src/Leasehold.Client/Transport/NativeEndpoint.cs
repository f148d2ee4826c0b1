using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Leasehold.Protocol;
using Leasehold.Protocol.Native;

namespace Leasehold.Client.Transport;

/// <summary>
/// A server reached over the native protocol (<c>leasehold://</c>, <c>leaseholds://</c>, docs/protocol.md): one
/// multiplexed connection, made on first use and made again after it breaks. The hot operations have binary
/// messages; every other route goes through CALL with the JSON the HTTP transport sends.
/// </summary>
/// <remarks><paramref name="time"/> is the client's clock: the connection's timestamps, heartbeat and connect timeout count on it.</remarks>
internal sealed class NativeEndpoint(Uri address, LeaseholdClientOptions options, TimeProvider time) : Endpoint(address)
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private NativeConnection? _connection;
    private bool _disposed;

    /// <summary>The live connection, made (or made again) when there is none.</summary>
    public async ValueTask<NativeConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = Volatile.Read(ref _connection);
        if (connection is { IsAlive: true })
        {
            return connection;
        }
        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            connection = _connection;
            if (connection is { IsAlive: true })
            {
                return connection;
            }
            connection?.Dispose();
            connection = await NativeConnection.ConnectAsync(Address, options, time, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _connection, connection);
            if (Volatile.Read(ref _disposed))
            {
                connection.Dispose();
                ObjectDisposedException.ThrowIf(true, this);
            }
            return connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    public override async Task<Reply<LeaseDto>> AcquireAsync(AcquireRequest request, OpenSession? session, CancellationToken cancellationToken)
    {
        var message = ToMessage(request, session);
        NativeConnection connection;
        NativeAnswer answer;
        try
        {
            connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
            answer = await connection.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (NativeRefusedException refused)
        {
            return Reply<LeaseDto>.Refused(refused.Problem);
        }
        // Granted on this connection: the server pushes LEASE_ENDED for it here.
        return ToLease(answer) with { Connection = connection };
    }

    public override Task<Reply<LeaseDto>> RenewAsync(long id, string token, TimeSpan? ttl, CancellationToken cancellationToken)
        => RoundTripAsync(new RenewMessage((ulong)id, token, ttl is { } t ? Milliseconds(t.TotalSeconds) : -1), ToLease, cancellationToken);

    public override Task<Reply<bool>> ReleaseAsync(long id, string token, CancellationToken cancellationToken)
        => RoundTripAsync(new ReleaseMessage((ulong)id, token), ToOk, cancellationToken);

    public override Task<Reply<LeaseDto>> GetLeaseAsync(long id, CancellationToken cancellationToken)
        => RoundTripAsync(new GetLeaseMessage((ulong)id), ToLease, cancellationToken);

    public override async Task<Reply<OpenSession>> OpenSessionAsync(TimeSpan ttl, string? owner, CancellationToken cancellationToken)
    {
        NativeConnection connection;
        NativeAnswer answer;
        try
        {
            connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
            // Bound to the connection: the server keeps it alive while the connection lives.
            answer = await connection.SendAsync(new SessionOpenMessage(Milliseconds(ttl.TotalSeconds), owner, SessionFlags.Bound), cancellationToken).ConfigureAwait(false);
        }
        catch (NativeRefusedException refused)
        {
            return Reply<OpenSession>.Refused(refused.Problem);
        }
        var reply = ToSession(answer);
        return reply.Value is { } session
            ? Reply<OpenSession>.Of(new OpenSession(session, connection)) with { Connection = connection }
            : Reply<OpenSession>.Refused(reply.Problem!, reply.RetryAfter, reply.Leader);
    }

    public override Task<Reply<SessionDto>> KeepAliveAsync(long id, string token, CancellationToken cancellationToken)
        => RoundTripAsync(new SessionKeepAliveMessage((ulong)id, token), ToSession, cancellationToken);

    public override Task<Reply<bool>> CloseSessionAsync(long id, string token, CancellationToken cancellationToken)
        => RoundTripAsync(new SessionCloseMessage((ulong)id, token), ToOk, cancellationToken);

    public override async Task<Reply<T>> CallAsync<T>(HttpMethod method, string uri, byte[]? body, JsonTypeInfo<T>? type, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(new CallMessage(method.Method, "/" + uri, body), cancellationToken).ConfigureAwait(false);
        if (answer is null)
        {
            return default;
        }
        var value = answer.Value;
        if (value.Type == FrameType.Error)
        {
            return Refused<T>(value.Error);
        }
        if (value.Type != FrameType.Result)
        {
            return Reply<T>.Refused(Unexpected(value));
        }
        var result = value.Result;
        if (result.Status is < 200 or > 299)
        {
            // CALL carries no headers: a Retry-After comes as the problem's retryAfter.
            var problem = ReadProblem(result);
            return Reply<T>.Refused(problem, problem.RetryAfter is { } seconds && seconds > 0 ? TimeSpan.FromSeconds(seconds) : null);
        }
        if (type is null)
        {
            return Reply<T>.Of(default!);
        }
        return result.Body is { Length: > 0 } json && JsonSerializer.Deserialize(json, type) is { } read
            ? Reply<T>.Of(read)
            : throw new LeaseholdException(ErrorCodes.Internal, result.Status, "the server answered an empty body");
    }

    private async Task<Reply<TOut>> RoundTripAsync<T, TOut>(T message, Func<NativeAnswer, Reply<TOut>> map, CancellationToken cancellationToken)
        where T : struct, INativeMessage<T>
    {
        try
        {
            var connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
            return map(await connection.SendAsync(message, cancellationToken).ConfigureAwait(false));
        }
        catch (NativeRefusedException refused)
        {
            return Reply<TOut>.Refused(refused.Problem);
        }
    }

    /// <summary>The answer, or null when the handshake was refused (then <paramref name="message"/>'s caller gets that problem).</summary>
    private async Task<NativeAnswer?> SendAsync<T>(T message, CancellationToken cancellationToken) where T : struct, INativeMessage<T>
    {
        try
        {
            var connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await connection.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (NativeRefusedException refused)
        {
            return new NativeAnswer
            {
                Type = FrameType.Error,
                Error = new ErrorMessage(refused.Problem.Code, (ushort)refused.Problem.Status, refused.Problem.Detail ?? "", -1, null),
            };
        }
    }

    private static readonly Func<NativeAnswer, Reply<LeaseDto>> ToLease = answer => answer.Type switch
    {
        FrameType.Lease => Reply<LeaseDto>.Of(ToDto(answer.Lease)),
        FrameType.Error => Refused<LeaseDto>(answer.Error),
        _ => Reply<LeaseDto>.Refused(Unexpected(answer)),
    };

    private static readonly Func<NativeAnswer, Reply<SessionDto>> ToSession = answer => answer.Type switch
    {
        FrameType.Session => Reply<SessionDto>.Of(ToDto(answer.Session)),
        FrameType.Error => Refused<SessionDto>(answer.Error),
        _ => Reply<SessionDto>.Refused(Unexpected(answer)),
    };

    private static readonly Func<NativeAnswer, Reply<bool>> ToOk = answer => answer.Type switch
    {
        FrameType.Ok => Reply<bool>.Of(true),
        FrameType.Error => Refused<bool>(answer.Error),
        _ => Reply<bool>.Refused(Unexpected(answer)),
    };

    private static Reply<T> Refused<T>(in ErrorMessage error)
    {
        var problem = ToProblem(error);
        return Reply<T>.Refused(problem, error.RetryAfterMs >= 0 ? TimeSpan.FromMilliseconds(error.RetryAfterMs) : null, LeaderOf(error));
    }

    private static ProblemDto Unexpected(in NativeAnswer answer)
        => Problems.Unexpected(500, $"the server answered with a frame of type 0x{(byte)answer.Type:X2}");

    /// <summary>An ERROR frame as the problem HTTP would have answered (its extensions' <c>holders</c> included).</summary>
    public static ProblemDto ToProblem(in ErrorMessage error)
    {
        LeaseDto[]? holders = null;
        if (error.Extensions is { Length: > 0 } extensions)
        {
            try
            {
                using var document = JsonDocument.Parse(extensions);
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("holders", out var list))
                {
                    holders = list.Deserialize(ProtocolJsonContext.Default.LeaseDtoArray);
                }
            }
            catch (JsonException)
            {
                // Extensions are extra: a problem without them is still the problem.
            }
        }
        return new ProblemDto
        {
            Type = "urn:leasehold:problem:" + error.Code,
            Title = error.Code,
            Status = error.Status,
            Detail = error.Detail,
            Code = error.Code,
            Holders = holders,
        };
    }

    /// <summary>The leader a node without the lead named in its ERROR's extensions, if any.</summary>
    private static Uri? LeaderOf(in ErrorMessage error)
    {
        if (error.Extensions is not { Length: > 0 } extensions)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(extensions);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("leader", out var leader) && leader.ValueKind == JsonValueKind.String
                   && Uri.TryCreate(leader.GetString(), UriKind.Absolute, out var uri)
                ? uri
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static ProblemDto ReadProblem(in ResultMessage result)
    {
        if (result.Body is { Length: > 0 } body)
        {
            try
            {
                if (JsonSerializer.Deserialize(body, ProtocolJsonContext.Default.ProblemDto) is { } problem)
                {
                    return problem;
                }
            }
            catch (JsonException)
            {
                // Not a problem document: described below.
            }
        }
        return Problems.Unexpected(result.Status, $"HTTP {result.Status} without a problem body");
    }

    public static AcquireMessage ToMessage(AcquireRequest request, OpenSession? session)
    {
        var flags = AcquireFlags.None;
        if (request.Mode == "shared")
        {
            flags |= AcquireFlags.Shared;
        }
        if (request.LockParents != false)
        {
            flags |= AcquireFlags.LockParents;
        }
        if (request.LockChildren != false)
        {
            flags |= AcquireFlags.LockChildren;
        }
        if (request.Reuse == true)
        {
            flags |= AcquireFlags.Reuse;
        }
        var groups = request.Groups is { Length: > 0 } list ? new PoolGroupSpec[list.Length] : [];
        for (var i = 0; i < groups.Length; i++)
        {
            var group = request.Groups![i];
            groups[i] = new PoolGroupSpec(group.Pool ?? "", group.Count ?? 0,
                group.Require is { } require ? JsonSerializer.SerializeToUtf8Bytes(require, ProtocolJsonContext.Default.JsonElement) : null);
        }
        return new AcquireMessage
        {
            Flags = flags,
            TtlMs = request.Ttl is { } ttl ? Milliseconds(ttl) : -1,
            WaitMs = request.Wait is { } wait ? Milliseconds(wait) : 0,
            SessionId = session is not null ? (ulong)session.Id : request.Session is { } id ? (ulong)id : 0,
            Limit = request.Limit ?? -1,
            Owner = request.Owner,
            IdempotencyKey = request.IdempotencyKey,
            Paths = request.Paths ?? (request.Path is { } path ? [path] : []),
            Groups = groups,
        };
    }

    private static long Milliseconds(double seconds) => (long)Math.Round(seconds * 1000);

    public static LeaseDto ToDto(in LeaseMessage lease) => new()
    {
        Id = (long)lease.Id,
        Token = lease.Token,
        Owner = lease.Owner,
        Principal = lease.Principal,
        Mode = (lease.Flags & LeaseFlags.Shared) != 0 ? "shared" : "exclusive",
        Paths = lease.Paths,
        Limit = lease.Limit < 0 ? null : lease.Limit,
        Ttl = lease.TtlMs < 0 ? null : lease.TtlMs / 1000.0,
        Fence = (long)lease.Fence,
        AcquiredAt = DateTimeOffset.FromUnixTimeMilliseconds(lease.AcquiredAt),
        ExpiresAt = lease.ExpiresAt < 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(lease.ExpiresAt),
        Session = lease.SessionId == 0 ? null : (long)lease.SessionId,
        LockParents = (lease.Flags & LeaseFlags.LockParents) != 0,
        LockChildren = (lease.Flags & LeaseFlags.LockChildren) != 0,
        Waited = lease.WaitedMs / 1000.0,
        Resources = lease.Resources is { Length: > 0 } json ? JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.ChosenResourceDtoArray) : null,
    };

    public static SessionDto ToDto(in SessionMessage session) => new()
    {
        Id = (long)session.Id,
        Token = session.Token,
        Owner = session.Owner,
        Principal = session.Principal,
        Ttl = session.TtlMs / 1000.0,
        ExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(session.ExpiresAt),
        Leases = session.Leases,
    };

    public override void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        Volatile.Read(ref _connection)?.Dispose();
    }
}
