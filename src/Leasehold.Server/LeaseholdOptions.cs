namespace Leasehold.Server;

/// <summary>Settings under the <c>Leasehold</c> configuration section (docs/operations.md lists them).</summary>
public sealed class LeaseholdOptions
{
    public const string Section = "Leasehold";

    /// <summary>Where the server keeps its files; created at start-up. Relative to the working directory.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>The largest request body accepted, in bytes.</summary>
    public long MaxRequestBytes { get; set; } = 64 * 1024;
}
