using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Client.Tests;

/// <summary>
/// Answers are read leniently and requests strictly: a problem document or any other answer a later server extends
/// still reads, while a request body with a member the server does not know stays refused.
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
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"path": "/a", "ownr": "typo"}""", ProtocolJsonContext.Default.AcquireRequest));
        // Nested in a request, too: a pool group's misspelt member.
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"groups": [{"pool": "/p", "cuont": 2}]}""", ProtocolJsonContext.Default.AcquireRequest));
    }

    [Fact]
    public void Answers_with_members_a_later_server_added_are_read()
    {
        // A lease and a cluster view as a later server might send them (this server added leaderCommitIndex to the view).
        var lease = JsonSerializer.Deserialize("""
            {"id": 7, "token": "ab", "fence": 3, "paths": ["/a"], "mode": "exclusive", "acquiredAt": "2026-12-06T00:00:00Z",
             "addedLater": true}
            """, ProtocolJsonContext.Default.LeaseDto);
        Assert.Equal((7L, 3L), (lease!.Id, lease.Fence));
        var view = JsonSerializer.Deserialize("""
            {"node": "n1:7000", "role": "follower", "term": 2, "commitIndex": 5, "appliedIndex": 5, "lastIndex": 5, "members": [],
             "addedLater": {"x": 1}}
            """, ProtocolJsonContext.Default.ClusterStatusDto);
        Assert.Equal("follower", view!.Role);
    }

    [Fact]
    public void Every_request_type_is_read_strictly_and_every_other_wire_type_leniently()
    {
        // The rule the context's comment states, for every public wire type, so that a type added later follows it: a
        // request that is not named *Request would be read leniently by the server, and an answer named so would
        // break older clients.
        var types = typeof(ProtocolJsonContext).Assembly.GetExportedTypes()
            .Where(t => t.Name.EndsWith("Request", StringComparison.Ordinal) || t.Name.EndsWith("Dto", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(typeof(AcquireRequest), types);
        Assert.Contains(typeof(LeaseDto), types);
        foreach (var type in types)
        {
            var info = ProtocolJsonContext.Default.GetTypeInfo(type);
            Assert.True(info is not null, $"{type.Name} is not in the JSON context");
            var handling = info.UnmappedMemberHandling ?? info.Options.UnmappedMemberHandling;
            var expected = type.Name.EndsWith("Request", StringComparison.Ordinal)
                ? System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow
                : System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip;
            Assert.True(expected == handling, $"{type.Name}: {handling}, expected {expected}");
        }
    }
}
