using System.Runtime.CompilerServices;
using Leasehold.Core;

namespace Leasehold.Bench;

/// <summary>
/// Sets init-only fields of prebuilt commands, so a benchmark can reuse one command object instead of
/// allocating a new record per operation (the allocation would otherwise be charged to the engine).
/// </summary>
internal static class CommandFields
{
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_LeaseId")]
    public static extern void SetLeaseId(ReleaseLease command, long value);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_Now")]
    public static extern void SetNow(Command command, long value);
}
