using System.Buffers;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Server.Engine;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// One request's bytes to one reply line, shared by both transports: parse, then one engine step on the writer
/// (<see cref="IdServerSteps.GetItem"/>, <see cref="IdServerSteps.PutItem"/>), answered once the step is durable. Never throws.
/// </summary>
internal sealed partial class IdServerProtocol(EngineHost host, IdServerSettings settings, Security.SecurityState security, ILogger<IdServerProtocol> logger, Cluster.IdServerForwarder? forwarder = null)
{
    /// <summary>Who the front-end's clients act as when security is on (they send no credentials); null while it is off.</summary>
    public System.Security.Claims.ClaimsPrincipal? Principal { get; set; }

    // The requirement text of a group without one, as the engine compares it when it looks for a lease to reuse.
    private readonly string _anyRequirement = GroupClaim.TryCreate(new PoolGroup(settings.Pool, "{}", 1), out var claim, out _)
        ? claim.Requirement.Text
        : "{}";

    public ResourcePath Pool => settings.Pool;

    public async Task<string> HandleAsync(ReadOnlySequence<byte> data)
    {
        if (!IdServerRequest.TryParse(data, out var request, out var errorReply))
        {
            return errorReply;
        }
        var pool = settings.Pool;
        if (Principal is { } principal && !security.Rules.Allows(principal, Security.Right.Lock, pool, subtree: true))
        {
            LogDenied(Security.Caller.NameOf(principal), pool.Value, request.Owner);
            return IdServerReply.Error($"forbidden: {Security.Caller.NameOf(principal)} has no lock right on {pool}");
        }
        try
        {
            if (request.IsGet)
            {
                var token = Tokens.NameHash(Tokens.PoolReuse, request.Owner);
                return await host.Submit(new IdServerSteps.GetItem(pool, request.Owner, request.Expire, token, Security.Caller.NameOf(Principal))).ConfigureAwait(false);
            }
            return await host.Submit(new IdServerSteps.PutItem(pool, _anyRequirement, request.Owner)).ConfigureAwait(false);
        }
        catch (NotLeaderException ex) when (forwarder is not null)
        {
            // A cluster follower: the leader's idserver front-end answers (docs/cluster.md).
            return await forwarder.ForwardAsync(data).ConfigureAwait(false)
                ?? IdServerReply.Error($"no cluster leader answers now ({ex.Message})");
        }
        catch (Exception ex)
        {
            // The log could not be written, the server is stopping, or a bug: idserver answers any failure with its message.
            LogRequestFailed(ex, request.IsGet ? "get" : "put", request.Owner);
            return IdServerReply.Error(ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Denied {Principal} the lock right on {Pool}: idserver request of owner {Owner}")]
    private partial void LogDenied(string? principal, string pool, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "idserver {Action} for owner {Owner} failed")]
    private partial void LogRequestFailed(Exception ex, string action, string owner);
}
