using System.Diagnostics;
using System.Text.Json;

namespace Leasehold.Server.Tests;

/// <summary>
/// The served OpenAPI document: every /v1 route declares its parameters, a real validator accepts it,
/// and a client generated from it by a real generator acquires, reads and releases a lease.
/// </summary>
public sealed class OpenApiTests : ServerTestBase
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task TheBearerSchemeIsDeclaredAndOptional()
    {
        var document = await GetJsonAsync("/openapi/v1.json");
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        var requirements = document.GetProperty("security").EnumerateArray().ToList();
        Assert.Contains(requirements, r => !r.EnumerateObject().Any());
        Assert.Contains(requirements, r => r.TryGetProperty("bearer", out _));
    }

    [Fact]
    public async Task EveryPathParameterOfEveryV1RouteIsDeclared()
    {
        var document = await GetJsonAsync("/openapi/v1.json");
        var checkedPaths = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/v1", StringComparison.Ordinal)))
        {
            var templated = path.Name.Split('/').Where(s => s.StartsWith('{')).Select(s => s.Trim('{', '}')).ToHashSet(StringComparer.Ordinal);
            foreach (var operation in path.Value.EnumerateObject())
            {
                var declared = operation.Value.TryGetProperty("parameters", out var parameters)
                    ? parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "path").Select(p => p.GetProperty("name").GetString()!).ToHashSet(StringComparer.Ordinal)
                    : [];
                Assert.True(templated.SetEquals(declared), $"{operation.Name} {path.Name} declares path parameters [{string.Join(", ", declared)}]");
                var errors = operation.Value.GetProperty("responses").EnumerateObject().Where(r => r.Name[0] is '4' or '5').ToList();
                Assert.True(errors.Count >= 2, $"{operation.Name} {path.Name} declares no 4XX and 5XX responses");
                Assert.All(errors, r => Assert.True(r.Value.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{operation.Name} {path.Name} {r.Name} is not a problem"));
                checkedPaths++;
            }
        }
        Assert.True(checkedPaths > 10);
        var get = document.GetProperty("paths").GetProperty("/v1/leases/{id}").GetProperty("get");
        var id = get.GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "id");
        Assert.Equal("integer", id.GetProperty("schema").GetProperty("type").GetString());
        var release = document.GetProperty("paths").GetProperty("/v1/leases/{id}").GetProperty("delete");
        Assert.Contains(release.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("in").GetString() == "header" && p.GetProperty("name").GetString() == "Leasehold-Token");
        var example = get.GetProperty("responses").GetProperty("4XX").GetProperty("content").GetProperty("application/problem+json").GetProperty("example");
        Assert.Equal("not-found", example.GetProperty("code").GetString());
        Assert.Equal(404, example.GetProperty("status").GetInt32());
        // The documented acquire example is a request the server grants.
        var acquireExample = document.GetProperty("paths").GetProperty("/v1/leases").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("example").GetRawText();
        using (var granted = await AcquireAsync(acquireExample))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, granted.StatusCode);
        }
        var list = document.GetProperty("paths").GetProperty("/v1/resources").GetProperty("get");
        Assert.Contains(list.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("in").GetString() == "query" && p.GetProperty("name").GetString() == "limit");
    }

    [Theory]
    [InlineData("/v1/leases", "post", "201")]
    [InlineData("/v1/leases/{id}", "get", "200")]
    [InlineData("/v1/leases/{id}/renew", "post", "200")]
    [InlineData("/v1/sessions", "post", "201")]
    [InlineData("/v1/resources/{path}", "get", "200")]
    [InlineData("/v1/fences/{path}", "get", "200")]
    [InlineData("/v1/whoami", "get", "200")]
    [InlineData("/v1/admin/leases/{id}", "delete", "200")]
    [InlineData("/v1/admin/sessions/{id}", "delete", "200")]
    [InlineData("/v1/admin/drains/{path}", "put", "201")]
    [InlineData("/v1/admin/drains", "get", "200")]
    [InlineData("/v1/admin/leases", "get", "200")]
    [InlineData("/v1/admin/sessions", "get", "200")]
    public async Task Success_bodies_have_examples_that_read_as_the_wire_types(string path, string method, string status)
    {
        var document = await GetJsonAsync("/openapi/v1.json");
        var example = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty(status)
            .GetProperty("content").GetProperty("application/json").GetProperty("example");
        Assert.Equal(JsonValueKind.Object, example.ValueKind);
        // Read back with the client's own contracts: an example that drifted from the wire type would not.
        object? read = path switch
        {
            "/v1/sessions" => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.SessionDto),
            "/v1/resources/{path}" => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.ResourceDto),
            "/v1/fences/{path}" => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.FenceDto),
            "/v1/whoami" => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.WhoAmIDto),
            "/v1/admin/sessions/{id}" => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.SessionDto),
            "/v1/admin/drains/{path}" => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.DrainDto),
            "/v1/admin/drains" => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.DrainListDto),
            "/v1/admin/leases" => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.AdminLeaseListDto),
            "/v1/admin/sessions" => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.AdminSessionListDto),
            _ => example.Deserialize(Leasehold.Protocol.ProtocolJsonContext.Default.LeaseDto),
        };
        Assert.NotNull(read);
    }

    [Fact]
    public async Task ARealValidatorAcceptsTheDocument()
    {
        var file = await SaveDocumentAsync();
        try
        {
            // Redocly's recommended rules (redocly.yaml): the OpenAPI schema, every templated path
            // parameter declared, operation ids, a 4XX response on every operation, and more.
            var (exit, output) = await RunToolAsync("redocly", "lint", "--config", "redocly.yaml", "--format", "stylish", file);
            Assert.True(exit == 0, $"redocly rejected the OpenAPI document:\n{output}");
            Assert.True(output.Contains("Woohoo! Your API description is valid.", StringComparison.Ordinal), $"redocly found problems in the OpenAPI document:\n{output}");
            Assert.False(output.Contains("You have", StringComparison.Ordinal), $"redocly warned about the OpenAPI document:\n{output}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AClientGeneratedFromTheDocumentAcquiresReadsAndReleasesALease()
    {
        var file = await SaveDocumentAsync();
        var dir = Directory.CreateTempSubdirectory("leasehold-client-");
        try
        {
            var (exit, output) = await RunToolAsync("swagger-typescript-api", "generate", "--path", file, "--output", dir.FullName, "--name", "leasehold-client.js", "--js", "--silent");
            Assert.True(exit == 0, $"swagger-typescript-api could not generate a client:\n{output}");
            var client = Path.Combine(dir.FullName, "leasehold-client.js");
            Assert.True(File.Exists(client), $"swagger-typescript-api wrote no client:\n{output}");
            // The generated module is an ES module.
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "package.json"), "{\"type\": \"module\"}");

            (exit, output) = await RunToolAsync("node", "lease-roundtrip.mjs", client, Server.BaseAddress.ToString().TrimEnd('/'), "/openapi-client/build/one");
            Assert.True(exit == 0, $"the generated client's round trip failed:\n{output}");
            var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;

            var id = result.GetProperty("acquired").GetProperty("id").GetInt64();
            Assert.True(id > 0);
            Assert.True(result.GetProperty("acquired").GetProperty("fence").GetInt64() > 0);
            Assert.True(result.GetProperty("acquired").GetProperty("hasToken").GetBoolean());
            Assert.Equal(id, result.GetProperty("lease").GetProperty("id").GetInt64());
            Assert.Equal("generated-client", result.GetProperty("lease").GetProperty("owner").GetString());
            Assert.False(result.GetProperty("lease").GetProperty("hasToken").GetBoolean());
            Assert.Equal([id], result.GetProperty("holders").EnumerateArray().Select(h => h.GetInt64()));
            Assert.Equal(["/openapi-client/build/one"], result.GetProperty("listed").EnumerateArray().Select(p => p.GetString()));
            Assert.True(result.GetProperty("fenceCurrent").GetBoolean());
            Assert.Equal(204, result.GetProperty("releasedStatus").GetInt32());
            Assert.Equal(404, result.GetProperty("afterRelease").GetProperty("status").GetInt32());
            Assert.Equal("not-found", result.GetProperty("afterRelease").GetProperty("code").GetString());

            // The server agrees: the path is free again.
            var resource = await GetJsonAsync("/v1/resources/openapi-client/build/one");
            Assert.Equal(0, resource.GetProperty("holders").GetArrayLength());
        }
        finally
        {
            File.Delete(file);
            dir.Delete(recursive: true);
        }
    }

    private async Task<string> SaveDocumentAsync()
    {
        using var response = await Client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        var file = Path.Combine(Path.GetTempPath(), $"leasehold-openapi-{Guid.NewGuid():N}.json");
        var text = await response.Content.ReadAsStringAsync();
        await File.WriteAllTextAsync(file, text);
        return file;
    }

    internal static string ToolsDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Leasehold.slnx")))
        {
            dir = dir.Parent;
        }
        Assert.True(dir is not null, "the repository root (Leasehold.slnx) was not found above the test's directory");
        return Path.Combine(dir.FullName, "tests", "openapi-tools");
    }

    private static readonly SemaphoreSlim Installing = new(1, 1);

    /// <summary>
    /// Runs <paramref name="tool"/> (a program from tests/openapi-tools/node_modules/.bin, or node) with a
    /// bounded wait. The pinned tools are installed with <c>npm ci</c> the first time one is missing, so the
    /// README's test command works on a fresh clone as <c>.ci/run</c> does.
    /// </summary>
    internal static async Task<(int Exit, string Output)> RunToolAsync(string tool, params string[] args)
    {
        var tools = ToolsDir();
        var program = tool == "node" ? "node" : Path.Combine(tools, "node_modules", ".bin", tool);
        if (tool != "node" && !File.Exists(program))
        {
            await Installing.WaitAsync();
            try
            {
                if (!File.Exists(program))
                {
                    var (exit, output) = await RunProcessAsync("npm", tools, "ci", "--no-audit", "--no-fund", "--loglevel=error");
                    Assert.True(exit == 0, $"npm ci in tests/openapi-tools failed (Node.js 20 or later and npm are needed):\n{output}");
                }
            }
            finally
            {
                Installing.Release();
            }
        }
        Assert.True(tool == "node" || File.Exists(program), $"{tool} is not installed: run npm ci in tests/openapi-tools (.ci/run does)");
        return await RunProcessAsync(program, tools, args);
    }

    private static async Task<(int Exit, string Output)> RunProcessAsync(string program, string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        // No telemetry, update checks or notices from Redocly: the tests talk only to their own server.
        info.Environment["REDOCLY_TELEMETRY"] = "off";
        info.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        info.Environment["REDOCLY_SUPPRESS_NOTIFICATIONS"] = "true";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(program)} did not finish within {ToolTimeout}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
