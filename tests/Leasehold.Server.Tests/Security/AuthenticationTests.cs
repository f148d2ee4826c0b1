using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Leasehold.Server.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Leasehold.Server.Tests.Security;

/// <summary>Who a request is: API keys (right, wrong, revoked, rotated), JWTs (valid, expired, forged), and nothing.</summary>
public class AuthenticationTests
{
    private const string Acquire = """{"path": "/ci/job-1", "ttl": 60}""";

    [Fact]
    public async Task Without_credentials_an_acquire_is_401_unauthenticated_and_changes_nothing()
    {
        await using var server = await SecuredServer.StartAsync();
        using var response = await server.SendAsync(null, HttpMethod.Post, "/v1/leases", Acquire);
        await HttpAssert.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Empty(await server.HoldersAsync("/ci/job-1"));
    }

    [Fact]
    public async Task A_wrong_key_is_401_invalid_credentials_even_where_anonymous_callers_may_read()
    {
        await using var server = await SecuredServer.StartAsync();
        var wrong = ApiKeys.Create("ci-key");
        using var acquire = await server.SendAsync(null, HttpMethod.Post, "/v1/leases", Acquire, bearer: wrong);
        var problem = await HttpAssert.AssertProblemAsync(acquire, HttpStatusCode.Unauthorized, "invalid-credentials");
        Assert.Contains("not valid", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var read = await server.SendAsync(null, HttpMethod.Get, "/v1/resources/warm-up/x", bearer: wrong);
        await HttpAssert.AssertProblemAsync(read, HttpStatusCode.Unauthorized, "invalid-credentials");
        using var malformed = await server.SendAsync(null, HttpMethod.Get, "/v1/resources/warm-up/x", bearer: "not-a-key");
        await HttpAssert.AssertProblemAsync(malformed, HttpStatusCode.Unauthorized, "invalid-credentials");
        using (var basic = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/resources/warm-up/x", UriKind.Relative)))
        {
            basic.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "Y2k6c2VjcmV0");
            using var refused = await server.Server.Client.SendAsync(basic);
            await HttpAssert.AssertProblemAsync(refused, HttpStatusCode.Unauthorized, "invalid-credentials");
        }
        Assert.Empty(await server.HoldersAsync("/ci/job-1"));
        // Probes stay open to anyone, whatever they send.
        using var health = await server.SendAsync(null, HttpMethod.Get, "/healthz", bearer: wrong);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task The_right_key_acquires_and_the_lease_works()
    {
        await using var server = await SecuredServer.StartAsync();
        using var response = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", Acquire);
        var lease = await HttpAssert.ReadJsonAsync(response, HttpStatusCode.Created);
        var id = lease.GetProperty("id").GetInt64();
        Assert.Equal([id], await server.HoldersAsync("/ci/job-1"));
        using var renew = await server.SendAsync("ci", HttpMethod.Post, $"/v1/leases/{id}/renew", "{}", lease.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, renew.StatusCode);
        using var release = await server.SendAsync("ci", HttpMethod.Delete, $"/v1/leases/{id}", leaseToken: lease.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_without_a_restart_and_a_rotated_key_replaces_the_old()
    {
        await using var server = await SecuredServer.StartAsync();
        using (var before = await server.SendAsync("lab", HttpMethod.Get, "/v1/stats"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        await server.RewriteAsync(security => security["ApiKeys"]!.AsObject().Remove("lab-key"));
        using var revoked = await server.EventuallyAsync(HttpStatusCode.Unauthorized, () => server.SendAsync("lab", HttpMethod.Get, "/v1/stats"));
        await HttpAssert.AssertProblemAsync(revoked, HttpStatusCode.Unauthorized, "invalid-credentials");

        var rotated = ApiKeys.Create("ci-key");
        await server.RewriteAsync(security => security["ApiKeys"]!["ci-key"]!["Hash"] = ApiKeys.Hash(rotated));
        using var old = await server.EventuallyAsync(HttpStatusCode.Unauthorized, () => server.SendAsync("ci", HttpMethod.Get, "/v1/stats"));
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        using var fresh = await server.SendAsync(null, HttpMethod.Get, "/v1/stats", bearer: rotated);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }

    [Fact]
    public async Task An_expired_key_is_refused_with_when_it_expired()
    {
        await using var server = await SecuredServer.StartAsync();
        await server.RewriteAsync(security => security["ApiKeys"]!["ci-key"]!["Expires"] = "2020-01-01T00:00:00Z");
        using var response = await server.EventuallyAsync(HttpStatusCode.Unauthorized, () => server.SendAsync("ci", HttpMethod.Get, "/v1/stats"));
        var problem = await HttpAssert.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "invalid-credentials");
        Assert.Contains("expired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jwt_bearer_tokens_name_the_principal_and_its_roles_and_expired_or_forged_ones_are_refused()
    {
        using var signer = RSA.Create(2048);
        var dir = Directory.CreateTempSubdirectory("leasehold-jwt-").FullName;
        try
        {
            var keyFile = Path.Combine(dir, "signing.pem");
            await File.WriteAllTextAsync(keyFile, signer.ExportSubjectPublicKeyInfoPem());
            JsonArray rules = [SecuredServer.Rule(["role:builders"], "/ci/**", "lock"), SecuredServer.Rule(["root"], "/**", "admin"), SecuredServer.Rule(["anonymous"], "/warm-up/**", "read")];
            await using var server = await SecuredServer.StartAsync(rules,
                $"--Leasehold:Security:Jwt:SigningKeyFile={keyFile}", "--Leasehold:Security:Jwt:Issuer=https://id.example", "--Leasehold:Security:Jwt:Audience=leasehold");

            var valid = Token(signer, "alice", ["builders"], DateTime.UtcNow.AddMinutes(5));
            using (var granted = await server.SendAsync(null, HttpMethod.Post, "/v1/leases", Acquire, bearer: valid))
            {
                Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
            }
            using (var noRole = await server.SendAsync(null, HttpMethod.Post, "/v1/leases", """{"path": "/ci/job-2"}""", bearer: Token(signer, "bob", [], DateTime.UtcNow.AddMinutes(5))))
            {
                var problem = await HttpAssert.AssertProblemAsync(noRole, HttpStatusCode.Forbidden, "forbidden");
                Assert.Contains("bob", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
            using (var expired = await server.SendAsync(null, HttpMethod.Post, "/v1/leases", """{"path": "/ci/job-3"}""", bearer: Token(signer, "alice", ["builders"], DateTime.UtcNow.AddMinutes(-10))))
            {
                var problem = await HttpAssert.AssertProblemAsync(expired, HttpStatusCode.Unauthorized, "invalid-credentials");
                Assert.Contains("expired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
            using var forger = RSA.Create(2048);
            using (var forged = await server.SendAsync(null, HttpMethod.Post, "/v1/leases", """{"path": "/ci/job-4"}""", bearer: Token(forger, "alice", ["builders"], DateTime.UtcNow.AddMinutes(5))))
            {
                await HttpAssert.AssertProblemAsync(forged, HttpStatusCode.Unauthorized, "invalid-credentials");
            }
            using (var nameless = await server.SendAsync(null, HttpMethod.Post, "/v1/leases", """{"path": "/ci/job-5"}""", bearer: Token(signer, null, ["builders"], DateTime.UtcNow.AddMinutes(5))))
            {
                var problem = await HttpAssert.AssertProblemAsync(nameless, HttpStatusCode.Unauthorized, "invalid-credentials");
                Assert.Contains("sub", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
            // A key header that is garbage goes to the key handler, not to the JWT one (which would ignore it).
            using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/resources/warm-up/x", UriKind.Relative)))
            {
                request.Headers.Add("X-Api-Key", "garbage");
                using var garbage = await server.Server.Client.SendAsync(request);
                await HttpAssert.AssertProblemAsync(garbage, HttpStatusCode.Unauthorized, "invalid-credentials");
            }
            Assert.Single(await server.HoldersAsync("/ci/job-1"));
            foreach (var path in new[] { "/ci/job-2", "/ci/job-3", "/ci/job-4" })
            {
                Assert.Empty(await server.HoldersAsync(path));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Token(RSA key, string? subject, string[] roles, DateTime expires)
    {
        var claims = new Dictionary<string, object> { ["roles"] = roles };
        if (subject is not null)
        {
            claims["sub"] = subject;
        }
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://id.example",
            Audience = "leasehold",
            Claims = claims,
            NotBefore = expires.AddMinutes(-30),
            IssuedAt = expires.AddMinutes(-30),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key), SecurityAlgorithms.RsaSha256),
        });
    }

    [Fact]
    public void Key_hashes_match_their_key_only()
    {
        var key = ApiKeys.Create("k1");
        Assert.True(ApiKeys.TryGetId(key, out var id));
        Assert.Equal("k1", id);
        Assert.True(ApiKeys.Matches(key, ApiKeys.Hash(key)));
        Assert.False(ApiKeys.Matches(key + "x", ApiKeys.Hash(key)));
        Assert.False(ApiKeys.Matches(key, key));
        Assert.True(ApiKeys.IsValidHash(ApiKeys.Hash(key)));
        Assert.False(ApiKeys.IsValidHash(key));
        Assert.False(ApiKeys.TryGetId("lh_bad id_x", out _));
    }
}
