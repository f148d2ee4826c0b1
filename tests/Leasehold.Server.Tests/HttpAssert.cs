using System.Net;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Server.Tests;

/// <summary>Checks of HTTP answers shared by every test base: success bodies and problem+json bodies.</summary>
internal static class HttpAssert
{
    /// <summary>Asserts a JSON success answer with <paramref name="status"/> and returns its body.</summary>
    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return Parse(text);
    }

    public static JsonElement Parse(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Asserts a problem+json answer with the status and code of the catalogue; returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(ProblemDto.ContentType, response.Content.Headers.ContentType?.MediaType);
        var problem = Parse(text);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Equal("urn:leasehold:problem:" + code, problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }
}
