using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Wire;

namespace Leasehold.Server.Engine;

/// <summary>
/// A front-end that keeps its own list of the sessions it watches (a native connection, which must stop being watched
/// when it ends): told on the writer when a session it opened opens, and when it closes one it watched.
/// </summary>
internal interface ISessionWatcher : IEndWatcher
{
    /// <summary>On the writer, as a session this front-end opened opens: true to be told when it ends, false when it is gone.</summary>
    bool Watching(long sessionId);

    /// <summary>On the writer, once this front-end closed a session it watched: it is watched no more.</summary>
    void Closed(long sessionId);
}

/// <summary>
/// Sessions as typed work items, for HTTP and the native port alike: open, keep alive, close. Each builds its command
/// on the writer (stamped with the writer's clock) and answers once durable.
/// </summary>
public sealed partial class EngineHost
{
    /// <summary>
    /// Opens a session; the error, the session as the API shows it (with <paramref name="token"/>), and the detail, once
    /// durable. The engine gets only the token's hash.
    /// </summary>
    /// <param name="ttlMs">The session's time to live.</param>
    /// <param name="owner">Its owner, as the client names it, or null.</param>
    /// <param name="principal">The authenticated principal that opens it, or null.</param>
    /// <param name="token">The session's token, shown to whoever opened it.</param>
    /// <param name="watcher">Told when the session ends (if it says it still watches when it opens), or null.</param>
    internal Task<(ErrorCode Error, SessionDto? Session, string? Detail)> OpenSessionAsync(long ttlMs, string? owner, string? principal, UInt128 token, ISessionWatcher? watcher = null)
        => Submit(new OpenSessionItem(new OpenSession { TtlMs = ttlMs, Owner = owner, Principal = principal, Token = Tokens.Hash(token) }, token, watcher));

    /// <summary>Keeps a session alive for another ttl; the error, the session as the API shows it, and the detail, once durable.</summary>
    internal Task<(ErrorCode Error, SessionDto? Session, string? Detail)> KeepSessionAliveAsync(long sessionId, UInt128 tokenHash)
        => Submit(new KeepAliveItem(sessionId, tokenHash));

    /// <summary>
    /// Closes a session with the hash of its token, ending its leases; its result once durable. A <paramref name="watcher"/>
    /// that watched it is told it closed it (on the writer) and watches it no more.
    /// </summary>
    internal Task<OperationResult<Session>> CloseSessionAsync(long sessionId, UInt128 tokenHash, ISessionWatcher? watcher = null)
        => Submit(new CloseSessionItem(sessionId, tokenHash, watcher));

    /// <summary>A command's result on a session as the API answers it: the error, the session mapped on the writer, the detail.</summary>
    private static (ErrorCode, SessionDto?, string?) Answer(OperationResult<Session> result, UInt128? token = null)
        => (result.Error, result.Value is { } session ? Dtos.ToDto(session, token) : null, result.Detail);

    private sealed class OpenSessionItem(OpenSession command, UInt128 token, ISessionWatcher? watcher) : ValueItem<(ErrorCode, SessionDto?, string?)>
    {
        protected override (ErrorCode, SessionDto?, string?) Compute(Writer writer)
        {
            var result = writer.Run(command with { Now = writer.Now }, static (e, c) => e.Open(c));
            if (result.Value is { } opened && watcher is not null && watcher.Watching(opened.Id))
            {
                writer.Watch(EndedKind.Session, opened.Id, watcher);
            }
            return Answer(result, token);
        }
    }

    private sealed class KeepAliveItem(long sessionId, UInt128 tokenHash) : ValueItem<(ErrorCode, SessionDto?, string?)>
    {
        protected override (ErrorCode, SessionDto?, string?) Compute(Writer writer)
            => Answer(writer.Run(new KeepAliveSession { Now = writer.Now, SessionId = sessionId, Token = tokenHash }, static (e, c) => e.KeepAlive(c)));
    }

    private sealed class CloseSessionItem(long sessionId, UInt128 tokenHash, ISessionWatcher? watcher) : ValueItem<OperationResult<Session>>
    {
        protected override OperationResult<Session> Compute(Writer writer)
        {
            var closed = writer.Run(new CloseSession { Now = writer.Now, SessionId = sessionId, Token = tokenHash }, static (e, c) => e.Close(c));
            if (closed.Error == ErrorCode.None && watcher is not null)
            {
                writer.Unwatch(EndedKind.Session, sessionId, watcher);
                watcher.Closed(sessionId);
            }
            return closed;
        }
    }
}
