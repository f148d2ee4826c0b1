namespace Leasehold.Core.Query;

/// <summary>
/// A malformed query, found while compiling. It never escapes the compiler: <see cref="Requirement.TryCompile"/>
/// turns it into the error text, which the compiler has already completed with the location.
/// </summary>
internal sealed class QueryCompileException(string message) : Exception(message);
