using Leasehold.Core;
using Leasehold.Server.Engine;

namespace Leasehold.Server.Compat;

/// <summary>
/// gocept.lockd's methods over the engine. Resource <c>R</c> is the path <c>&lt;prefix&gt;/R</c> (one segment);
/// <c>lock</c> takes it exclusively with the client as owner and no ttl, <c>unlock</c> releases the lease on
/// exactly that path whose owner is the client. A call answers a value or a fault string.
/// </summary>
internal sealed class LockdService(ResourcePath prefix)
{
    public static readonly string[] Methods = ["lock", "system.listMethods", "system.methodHelp", "system.methodSignature", "unlock"];

    public ResourcePath Prefix { get; } = prefix;

    public async Task<(object? Value, string? Fault)> CallAsync(XmlRpcCall call, EngineHost host, string? principal = null)
    {
        var arguments = call.Arguments;
        switch (call.Method)
        {
            case "lock" or "unlock":
                if (arguments.Count != 2)
                {
                    return (null, LockdFaults.ArgumentCount(call.Method, 3, arguments.Count + 1));
                }
                for (var i = 0; i < 2; i++)
                {
                    if (arguments[i] is not string)
                    {
                        return (null, LockdFaults.NotAString(call.Method, i + 1, arguments[i]));
                    }
                }
                var (resource, client) = ((string)arguments[0]!, (string)arguments[1]!);
                if (!TryMap(resource, out var path, out var fault))
                {
                    return (null, fault);
                }
                return (null, call.Method == "lock" ? await LockAsync(host, path, client, principal) : await UnlockAsync(host, path, client));
            case "system.listMethods":
                return arguments.Count == 0 ? (Methods, null) : (null, LockdFaults.ArgumentCount("system_listMethods", 1, arguments.Count + 1));
            case "system.methodHelp" or "system.methodSignature":
                var function = call.Method.Replace('.', '_');
                if (arguments.Count != 1)
                {
                    return (null, LockdFaults.ArgumentCount(function, 2, arguments.Count + 1));
                }
                if (arguments[0] is not string method)
                {
                    return (null, LockdFaults.NotAString(function, 1, arguments[0]));
                }
                if (call.Method == "system.methodHelp")
                {
                    // As Python's server: an unknown method has no help, which is not an error.
                    return (LockdHelp.Help(method), null);
                }
                return LockdHelp.Signature(method) is { } signature ? (signature, null) : (null, LockdFaults.NotSupported(method));
            default:
                return (null, LockdFaults.NotSupported(call.Method));
        }
    }

    /// <summary>The path of a resource name: one segment under the prefix, never a way out of it.</summary>
    public bool TryMap(string resource, out ResourcePath path, out string? fault)
    {
        path = ResourcePath.Root;
        var reason = resource switch
        {
            "" => "it is empty",
            "." or ".." => "it is '.' or '..'",
            _ when resource.Contains('/', StringComparison.Ordinal) => "it contains '/'",
            _ when resource.Any(char.IsControl) => "it contains a control character",
            _ when resource.Length > ResourcePath.MaxSegmentLength => $"it is longer than {ResourcePath.MaxSegmentLength} characters",
            _ => null,
        };
        if (reason is null && !ResourcePath.TryFromSegments([.. Prefix.Segments, resource], out path, out var error))
        {
            reason = error;
        }
        fault = reason is null ? null : LockdFaults.InvalidName(resource, reason);
        return reason is null;
    }

    private static Task<string?> LockAsync(EngineHost host, ResourcePath path, string client, string? principal)
        => host.Submit(new LockItem(path, client, Tokens.NameHash(Tokens.Lockd, client), principal));

    private static Task<string?> UnlockAsync(EngineHost host, ResourcePath path, string client) => host.Submit(new UnlockItem(path, client));

    /// <summary>lock on the writer: null when <paramref name="client"/> got <paramref name="path"/>, else the fault.</summary>
    private sealed class LockItem(ResourcePath path, string client, UInt128 token, string? principal) : ValueItem<string?>
    {
        protected override string? Compute(Writer writer)
        {
            var limits = writer.Engine.Limits;
            if (client.Length > limits.MaxOwnerLength)
            {
                return LockdFaults.ClientTooLong(limits.MaxOwnerLength);
            }
            var command = new AcquireLease { Now = writer.Now, Paths = [path], Mode = LockMode.Exclusive, Owner = client, Token = token, Principal = principal };
            var result = writer.Run(command, static (e, c) => e.Acquire(c));
            return result.Error switch
            {
                ErrorCode.None => null,
                // Not re-entrant: the same client is refused like any other. A free name that an earlier
                // (/v1) waiter queues for is refused too, naming None.
                // lockd has no word for a drained name: already locked, so its clients try again later.
                ErrorCode.Locked or ErrorCode.LimitMismatch or ErrorCode.Draining => LockdFaults.AlreadyLocked(writer.Engine.FindLockerHolder(path)?.Owner),
                _ => LockdFaults.Exception(result.Detail ?? result.Error.ToString()),
            };
        }
    }

    /// <summary>unlock on the writer: null when <paramref name="client"/>'s lease on <paramref name="path"/> was released, else the fault.</summary>
    private sealed class UnlockItem(ResourcePath path, string client) : ValueItem<string?>
    {
        protected override string? Compute(Writer writer)
        {
            var holders = writer.Engine.GetResource(path).Holders;
            if (holders.Count == 0)
            {
                return LockdFaults.NotLocked();
            }
            // The owner is compared exactly, not stripped: a client with spaces around its name can unlock too.
            // Only a lease lockd took for that name counts: one taken over /v1 by an owner of the same name
            // carries a secret token, and knowing the name must not be enough to end it.
            var token = Tokens.NameHash(Tokens.Lockd, client);
            var lease = holders.FirstOrDefault(h => h.Token == token && string.Equals(h.Owner, client, StringComparison.Ordinal));
            if (lease is null)
            {
                return holders.Any(h => string.Equals(h.Owner, client, StringComparison.Ordinal))
                    ? LockdFaults.HeldWithToken(client)
                    : LockdFaults.WrongClient(holders[0].Owner, client);
            }
            var result = writer.Release(lease);
            return result.Error == ErrorCode.None ? null : LockdFaults.Exception(result.Detail ?? result.Error.ToString());
        }
    }
}
