namespace Leasehold.Cli;

/// <summary>A failure the tool reports in one line and turns into an exit code.</summary>
internal class CliException(int exitCode, string code, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>A short stable name, for <c>--json</c> error output.</summary>
    public string Code { get; } = code;
}

/// <summary>The command line is wrong: exit code 64.</summary>
internal sealed class UsageException(string message) : CliException(ExitCodes.Usage, "usage", message);
