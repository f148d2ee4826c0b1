using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Client.Tests;

/// <summary>
/// Answers are read leniently and requests strictly: a problem document a later server extends still reads (its
/// code is what the client acts on), while a request body with a member the server does not know stays refused.
/// </summary>
public class ProblemReadingTests
{
    [Fact]
    public void A_problem_with_members_this_client_does_not_know_is_read()
    {
        const string json = """
            {"type": "urn:leasehold:problem:no-leader", "title": "No leader", "status": 503, "detail": "electing",
             "code": "no-leader", "retryAfter": 2, "addedLater": {"nested": [1, 2]}}
            """;

        var problem = JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.ProblemDto);

        Assert.NotNull(problem);
        Assert.Equal((ErrorCodes.NoLeader, 503, 2), (problem.Code, problem.Status, problem.RetryAfter));
    }

    [Fact]
    public void A_request_body_with_a_member_the_server_does_not_know_is_still_refused()
        => Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"path": "/a", "ownr": "typo"}""", ProtocolJsonContext.Default.AcquireRequest));
}
