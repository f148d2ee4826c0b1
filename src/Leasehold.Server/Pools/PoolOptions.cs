using System.ComponentModel;

namespace Leasehold.Server.Pools;

/// <summary>
/// One configured pool (<c>Leasehold:Pools:N</c>): resources under <see cref="Path"/> from a py-lockable
/// <see cref="File"/>, or an id pool from <see cref="Ids"/>. A file-backed pool is owned by its file:
/// a reload makes the declared resources under the path exactly the file's.
/// </summary>
public sealed class PoolOptions
{
    [Description("a pool's path, under which its resources live")]
    public string? Path { get; set; }

    /// <summary>A resources.json file (py-lockable's format).</summary>
    [Description("a py-lockable resources.json file for the pool (--pool P --resources FILE is pool 0)")]
    public string? File { get; set; }

    /// <summary>Ids such as <c>acct-0..acct-9</c> or <c>a,b,c</c>; each becomes a resource with attributes <c>{"id": ...}</c>.</summary>
    [Description("ids such as acct-0..acct-9 or a,b,c: an id pool")]
    public string? Ids { get; set; }
}
