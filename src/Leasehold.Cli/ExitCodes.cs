namespace Leasehold.Cli;

/// <summary>The tool's exit codes (docs/cli.md). The sysexits.h numbers where one fits.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Any other refusal by the server (bad path, bad query, invalid token, ...) or an unexpected answer.</summary>
    public const int Error = 1;

    /// <summary>The server could not start (same as the server's own code).</summary>
    public const int CannotStart = 2;

    /// <summary>EX_USAGE: the command line is wrong.</summary>
    public const int Usage = 64;

    /// <summary>EX_UNAVAILABLE: the server cannot be reached.</summary>
    public const int Unavailable = 69;

    /// <summary>EX_CANTCREAT: not granted within --wait; the resources stayed held.</summary>
    public const int Locked = 73;

    /// <summary>EX_IOERR's number: no declared resource could ever match the requirement.</summary>
    public const int NoMatch = 74;

    /// <summary>EX_TEMPFAIL: the lease was lost (or, locally, its --ttl ran out) while the child ran.</summary>
    public const int Lost = 75;

    /// <summary>The child command exists but could not be executed.</summary>
    public const int CannotExecute = 126;

    /// <summary>The child command was not found.</summary>
    public const int CommandNotFound = 127;

    /// <summary>The shell's convention for "ended by signal N" (130 for SIGINT, 143 for SIGTERM).</summary>
    public static int Signal(int signal) => 128 + signal;
}
