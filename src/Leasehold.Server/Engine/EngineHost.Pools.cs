using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Protocol;
using Leasehold.Server.Wire;

namespace Leasehold.Server.Engine;

/// <summary>Declared resources as typed work items: declare, remove, and a pool's resource list.</summary>
public sealed partial class EngineHost
{
    /// <summary>
    /// Declares <paramref name="path"/> with <paramref name="attributes"/> (a JSON object, checked by the caller), or
    /// replaces its attributes; the error, the resource as the API shows it, and the detail, once durable.
    /// </summary>
    internal Task<(ErrorCode Error, DeclaredResourceDto? Resource, string? Detail)> DeclareAsync(ResourcePath path, string attributes)
        => Submit(new DeclareItem(path, attributes));

    /// <summary>Removes the declared resource <paramref name="path"/> if nobody holds it; the result once durable.</summary>
    internal Task<OperationResult<DeclaredResource>> RemoveDeclaredAsync(ResourcePath path) => Submit(new RemoveDeclaredItem(path));

    /// <summary>
    /// The resources declared at or under <paramref name="pool"/>: how many, and as py-lockable's resource list
    /// (<see cref="Dtos.ResourceList"/>).
    /// </summary>
    internal Task<(int Count, string Json)> PoolResourceListAsync(ResourcePath pool) => Submit(new PoolResourceListItem(pool));

    private sealed class DeclareItem(ResourcePath path, string attributes) : ValueItem<(ErrorCode, DeclaredResourceDto?, string?)>
    {
        protected override (ErrorCode, DeclaredResourceDto?, string?) Compute(Writer writer)
        {
            var result = writer.Run(new DeclareResource { Now = writer.Now, Path = path, Attributes = attributes }, static (e, c) => e.Declare(c));
            return (result.Error, result.Value is { } resource ? Dtos.ToDto(resource) : null, result.Detail);
        }
    }

    private sealed class RemoveDeclaredItem(ResourcePath path) : ValueItem<OperationResult<DeclaredResource>>
    {
        protected override OperationResult<DeclaredResource> Compute(Writer writer)
            => writer.Run(new RemoveResource { Now = writer.Now, Path = path }, static (e, c) => e.Remove(c));
    }

    private sealed class PoolResourceListItem(ResourcePath pool) : ValueItem<(int, string)>
    {
        protected override (int, string) Compute(Writer writer)
        {
            var declared = writer.Engine.ListDeclared(pool);
            return (declared.Count, Dtos.ResourceList(declared));
        }
    }
}
