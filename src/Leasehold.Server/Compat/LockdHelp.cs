namespace Leasehold.Server.Compat;

/// <summary>What <c>system.methodHelp</c> and <c>system.methodSignature</c> answer for gocept.lockd's methods.</summary>
internal static class LockdHelp
{
    public static string Help(string method) => method switch
    {
        "lock" => "lock(resource, client) => None\n\n"
            + "Locks resource for client. Fails with \"Resource already locked by 'holder'\" while anyone,\n"
            + "the same client included, holds it: the lock is not re-entrant.",
        "unlock" => "unlock(resource, client) => None\n\n"
            + "Unlocks resource. Fails if it is not locked, or if it is locked by another client.",
        "system.listMethods" => "system.listMethods() => ['lock', 'unlock']\n\n"
            + "Returns a list of the methods supported by the server.",
        "system.methodHelp" => "system.methodHelp('lock') => \"lock(resource, client) => None...\"\n\n"
            + "Returns a string containing documentation for the specified method.",
        "system.methodSignature" => "system.methodSignature('lock') => [['nil', 'string', 'string']]\n\n"
            + "Returns a list of signatures, each the return type followed by the argument types.",
        _ => "",
    };

    /// <summary>Each signature is the return type, then the argument types; null for an unknown method.</summary>
    public static string[][]? Signature(string method) => method switch
    {
        "lock" or "unlock" => [["nil", "string", "string"]],
        "system.listMethods" => [["array"]],
        "system.methodHelp" => [["string", "string"]],
        "system.methodSignature" => [["array", "string"]],
        _ => null,
    };
}
