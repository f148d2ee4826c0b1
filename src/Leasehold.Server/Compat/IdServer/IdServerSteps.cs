using System.Text.Json;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Server.Engine;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>
/// The engine step of each request, run on the writer: a pool acquire with <c>reuse</c> for a get, a
/// release of the owner's lease for a put. Every change goes through <see cref="Writer.Run{TCommand, TResult}"/>.
/// Each request is one work item (<see cref="GetItem"/>, <see cref="PutItem"/>) carrying its arguments and its reply line.
/// </summary>
internal static class IdServerSteps
{
    /// <summary>A get as a work item: <see cref="Get"/> on the writer, its reply line once durable.</summary>
    public sealed class GetItem(ResourcePath pool, string owner, double expire, UInt128 token, string? principal) : ValueItem<string>
    {
        protected override string Compute(Writer writer) => Get(writer, pool, owner, expire, token, principal);
    }

    /// <summary>A put as a work item: <see cref="Put"/> on the writer, its reply line once durable.</summary>
    public sealed class PutItem(ResourcePath pool, string anyRequirement, string owner) : ValueItem<string>
    {
        protected override string Compute(Writer writer) => Put(writer, pool, anyRequirement, owner);
    }

    /// <summary>
    /// Gives <paramref name="owner"/> an id for <paramref name="expire"/> seconds: renews the lease it
    /// holds from the pool, or takes a free id at once (never waits). With <paramref name="expire"/> &lt;= 0
    /// the id is released in the same step, as idserver makes it free at once, and still answered.
    /// </summary>
    public static string Get(Writer writer, ResourcePath pool, string owner, double expire, UInt128 token, string? principal = null)
    {
        var command = new AcquireLease
        {
            Now = writer.Now,
            Principal = principal,
            Paths = [],
            Groups = [new PoolGroup(pool, "{}", 1)],
            Reuse = true,
            Owner = owner,
            TtlMs = expire > 0 ? (long)Math.Ceiling(expire * 1000) : 0,
            Token = token,
        };
        var result = writer.Run(command, static (e, c) => e.Acquire(c));
        if (result.Lease is not { } lease)
        {
            // A drained pool is busy to idserver's clients: they know no other word for "not now".
            return result.Error is ErrorCode.Locked or ErrorCode.NoMatch or ErrorCode.Draining
                ? IdServerReply.Exhausted
                : IdServerReply.Error(result.Detail ?? result.Error.ToString());
        }
        var id = IdOf(writer.Engine, lease.Paths[0]);
        if (expire <= 0)
        {
            writer.Release(lease);
        }
        return IdServerReply.Value(id);
    }

    /// <summary>
    /// Releases the lease a get by <paramref name="owner"/> would renew (its oldest lease taken from the
    /// pool with no requirement and the owner's name-keyed token), if there is one. Anything else the owner
    /// holds is left alone: a lease taken with a secret token is ended only with that token.
    /// </summary>
    public static string Put(Writer writer, ResourcePath pool, string anyRequirement, string owner)
    {
        var token = Tokens.NameHash(Tokens.PoolReuse, owner);
        foreach (var lease in writer.Engine.LeasesOf(owner, pool))
        {
            if (lease.Token == token && lease.Groups is [var group] && group.Group.Pool.Equals(pool) && group.Requirement.Text == anyRequirement)
            {
                writer.Release(lease);
                break;
            }
        }
        return IdServerReply.Released;
    }

    /// <summary>The id as JSON: the resource's <c>id</c> attribute (a string, or a number as configured), else its last path segment.</summary>
    private static string IdOf(LockEngine engine, ResourcePath path)
    {
        if (engine.GetDeclared(path) is { Attributes: { ValueKind: JsonValueKind.Object } attributes }
            && attributes.TryGetProperty("id", out var id))
        {
            if (id.ValueKind == JsonValueKind.String)
            {
                return PythonJson.String(id.GetString()!);
            }
            if (id.ValueKind == JsonValueKind.Number)
            {
                return id.GetRawText();
            }
        }
        return PythonJson.String(path.Segments[^1]);
    }
}
