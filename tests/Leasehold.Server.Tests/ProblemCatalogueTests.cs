using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Http;

namespace Leasehold.Server.Tests;

/// <summary>The error catalogue is a contract: clients switch on these codes and statuses.</summary>
public class ProblemCatalogueTests
{
    [Fact]
    public void CodesAndStatusesArePinned()
    {
        var expected = new Dictionary<string, int>
        {
            ["locked"] = 409,
            ["not-found"] = 404,
            ["invalid-token"] = 403,
            ["invalid-path"] = 400,
            ["invalid-argument"] = 400,
            ["invalid-json"] = 400,
            ["limit-mismatch"] = 409,
            ["payload-too-large"] = 413,
            ["method-not-allowed"] = 405,
            ["shutting-down"] = 503,
            ["session-ended"] = 409,
            ["internal"] = 500,
            ["invalid-query"] = 400,
            ["no-match"] = 422,
            ["resource-busy"] = 409,
            ["bad-request"] = 400,
            ["unauthenticated"] = 401,
            ["invalid-credentials"] = 401,
            ["forbidden"] = 403,
            ["quota-exceeded"] = 429,
            ["rate-limited"] = 429,
            ["no-leader"] = 503,
            ["draining"] = 409,
            ["too-many-streams"] = 503,
        };
        Assert.Equal(expected.OrderBy(e => e.Key), Problems.All.Select(e => KeyValuePair.Create(e.Key, e.Value.Status)).OrderBy(e => e.Key));
    }

    [Theory]
    [InlineData(ErrorCode.Locked, ErrorCodes.Locked)]
    [InlineData(ErrorCode.NotFound, ErrorCodes.NotFound)]
    [InlineData(ErrorCode.InvalidToken, ErrorCodes.InvalidToken)]
    [InlineData(ErrorCode.InvalidPath, ErrorCodes.InvalidPath)]
    [InlineData(ErrorCode.InvalidArgument, ErrorCodes.InvalidArgument)]
    [InlineData(ErrorCode.LimitMismatch, ErrorCodes.LimitMismatch)]
    [InlineData(ErrorCode.ShuttingDown, ErrorCodes.ShuttingDown)]
    [InlineData(ErrorCode.SessionEnded, ErrorCodes.SessionEnded)]
    [InlineData(ErrorCode.InvalidQuery, ErrorCodes.InvalidQuery)]
    [InlineData(ErrorCode.NoMatch, ErrorCodes.NoMatch)]
    [InlineData(ErrorCode.ResourceBusy, ErrorCodes.ResourceBusy)]
    [InlineData(ErrorCode.Draining, ErrorCodes.Draining)]
    public void EveryEngineErrorHasItsOwnCode(ErrorCode error, string code) => Assert.Equal(code, Problems.Code(error));

    [Fact]
    public void EveryEngineErrorIsMapped()
    {
        foreach (var error in Enum.GetValues<ErrorCode>().Where(e => e != ErrorCode.None))
        {
            Assert.NotEqual(ErrorCodes.Internal, Problems.Code(error));
        }
    }

    [Fact]
    public void Every_code_is_in_the_catalogue_of_the_http_doc_with_its_status()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "http-api.md"));
        var codes = Problems.All.Select(e => (e.Key, e.Value.Status)).Concat(
        [
            (Leasehold.Protocol.Native.NativeProtocol.ProtocolError, 400),
            (Leasehold.Protocol.Native.NativeProtocol.UnsupportedVersion, 400),
            (Leasehold.Protocol.Native.NativeProtocol.FrameTooLarge, 413),
            (Leasehold.Protocol.Native.NativeProtocol.InvalidFrame, 400),
            (Leasehold.Protocol.Native.NativeProtocol.UnknownMessage, 400),
            (Leasehold.Protocol.Native.NativeProtocol.Cancelled, 499),
        ]);
        foreach (var (code, status) in codes)
        {
            Assert.Contains($"| `{code}` | {status}", doc, StringComparison.Ordinal);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Leasehold.slnx")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new DirectoryNotFoundException("no Leasehold.slnx above the test's directory");
    }
}
