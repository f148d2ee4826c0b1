namespace Leasehold.Server.Pools;

/// <summary>
/// One configured pool (<c>Leasehold:Pools:N</c>): resources under <see cref="Path"/> from a py-lockable
/// <see cref="File"/>, or an id pool from <see cref="Ids"/>. A file-backed pool is owned by its file:
/// a reload makes the declared resources under the path exactly the file's.
/// </summary>
public sealed class PoolOptions
{
    public string? Path { get; set; }

    /// <summary>A resources.json file (py-lockable's format).</summary>
    public string? File { get; set; }

    /// <summary>Ids such as <c>acct-0..acct-9</c> or <c>a,b,c</c>; each becomes a resource with attributes <c>{"id": ...}</c>.</summary>
    public string? Ids { get; set; }
}
