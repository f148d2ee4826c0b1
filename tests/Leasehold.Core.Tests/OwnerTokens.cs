namespace Leasehold.Core.Tests;

/// <summary>
/// Name-keyed tokens as the server derives them for reuse requests: the same for every request by one
/// owner, and never equal to the small counter tokens the tests hand out otherwise (the top bit is set).
/// </summary>
internal static class OwnerTokens
{
    public static UInt128 For(string owner)
    {
        ulong hash = 14695981039346656037; // FNV-1a: stable across runs, unlike string.GetHashCode
        foreach (var c in owner)
        {
            hash = (hash ^ c) * 1099511628211;
        }
        return (UInt128.One << 127) | hash;
    }
}
