namespace Leasehold.Server;

/// <summary>
/// The compatibility front-ends on the main HTTP port, one line each in <see cref="LeaseholdApp.Build"/>
/// (in this namespace so that needs no using). Each is switched off by its <c>Enabled</c> setting.
/// </summary>
internal static class CompatRoutes
{
    /// <summary>Locker's <c>/canhaz</c>, <c>/nowant</c>, <c>/dohaz</c> (Leasehold:Locker:Enabled).</summary>
    public static void MapLockerEndpoints(this WebApplication app) => Compat.LockerEndpoints.Map(app);

    /// <summary>gocept.lockd's XML-RPC at <c>POST /</c> and <c>POST /RPC2</c> (Leasehold:Lockd:Enabled, Leasehold:Lockd:Prefix).</summary>
    public static void MapLockdEndpoints(this WebApplication app) => Compat.LockdEndpoints.Map(app);
}
