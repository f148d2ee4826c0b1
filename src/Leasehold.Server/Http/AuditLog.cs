namespace Leasehold.Server.Http;

/// <summary>
/// One line per administrator's action (revoke, end session, drain, undrain) under the category
/// <see cref="Category"/>, so operators can route the audit trail on its own: who, what, on which
/// lease, session or path, and how it ended. The history keeps the same facts for ended leases.
/// </summary>
internal static partial class AuditLog
{
    public const string Category = "Leasehold.Audit";

    public static ILogger Create(ILoggerFactory loggers) => loggers.CreateLogger(Category);

    /// <param name="logger">The audit logger.</param>
    /// <param name="actor">The administrator's principal name, or null while security is off.</param>
    /// <param name="action">What was asked: revoke, end-session, drain, undrain.</param>
    /// <param name="target">The lease id, session id or path.</param>
    /// <param name="outcome">"ok", "unchanged", or the problem code that refused it.</param>
    public static void Action(ILogger logger, string? actor, string action, string target, string outcome)
        => Write(logger, actor ?? Core.LockEngine.AnonymousActor, action, target, outcome);

    [LoggerMessage(EventId = 9000, Level = LogLevel.Information, Message = "Admin {Actor} {Action} {Target}: {Outcome}")]
    private static partial void Write(ILogger logger, string actor, string action, string target, string outcome);
}
