using System.Text.Json;
using System.Text.Json.Nodes;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Protocol;
using Leasehold.Server.Engine;
using Leasehold.Server.Pools;
using Leasehold.Server.Security;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>Declared resources and pools: declare, remove, py-lockable's resource list, history, utilization, reload.</summary>
internal static class PoolEndpoints
{
    private const string ResourcesPrefix = "/v1/resources";
    private const string PoolsPrefix = "/v1/pools";
    private const string ResourceList = "/resources.json";

    public static void MapPoolEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPut(ResourcesPrefix + "/{**path}", DeclareAsync).WithTags("Pools").WithName("DeclareResource")
            .WithMetadata(new JsonBody(typeof(JsonElement), """{"model": "pixel-8", "os": "android-15"}"""))
            .Produces<DeclaredResourceDto>()
            .WithSummary("Declare a resource with attributes (a JSON object), or replace its attributes");
        app.MapDelete(ResourcesPrefix + "/{**path}", RemoveAsync).WithTags("Pools").WithName("RemoveResource")
            .Produces(StatusCodes.Status204NoContent)
            .Produces<ProblemDto>(StatusCodes.Status409Conflict, ProblemDto.ContentType)
            .WithSummary("Remove a declared resource that nobody holds");
        app.MapGet(PoolsPrefix + "/{**rest}", ResourceListAsync).WithTags("Pools").WithName("GetPoolResourceList")
            .Produces<JsonElement>()
            .WithSummary("A pool as py-lockable's resource list: GET /v1/pools/{pool}/resources.json");
        app.MapPost(PoolsPrefix + "/reload", ReloadAsync).WithTags("Pools").WithName("ReloadPools")
            .Produces<ReloadDto>()
            .WithSummary("Re-read the configured resource files and apply the difference");
        app.MapGet("/v1/history", HistoryAsync).WithTags("Pools").WithName("GetHistory")
            .WithMetadata(
                QueryParameter.Prefix("Leases on paths"),
                new QueryParameter("owner", JsonSchemaType.String, "Only leases of this owner.", JsonValue.Create("ci-runner-3")),
                new QueryParameter("since", JsonSchemaType.String, "Only leases that ended at or after this ISO 8601 time.", JsonValue.Create("2026-11-26T09:00:00Z")),
                new QueryParameter("until", JsonSchemaType.String, "Only leases that ended at or before this ISO 8601 time.", JsonValue.Create("2026-11-27T09:00:00Z")),
                new QueryParameter("limit", JsonSchemaType.Integer, "At most this many entries, 1 to 10000 (default 100).", JsonValue.Create(100)))
            .Produces<HistoryDto>()
            .WithSummary("Finished leases, newest first (query: prefix, owner, since, until, limit)");
        app.MapGet("/v1/utilization", UtilizationAsync).WithTags("Pools").WithName("GetUtilization")
            .WithMetadata(
                QueryParameter.Prefix("Declared resources"),
                new QueryParameter("window", JsonSchemaType.Number, "The window in seconds before now, at most 366 days (default 3600).", JsonValue.Create(3600)))
            .Produces<UtilizationDto>()
            .WithSummary("Share of time each declared resource under prefix was held over the last window seconds");
    }

    private static async Task<IResult> DeclareAsync(HttpContext context, EngineHost host)
    {
        if (!RequestReading.TryReadRoutePath(context, ResourcesPrefix, out var path, out var problem))
        {
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Declare, path) is { } denied)
        {
            return denied;
        }
        var (body, bodyProblem) = await RequestReading.ReadTextBodyAsync(context.Request);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        var attributes = System.Text.Encoding.UTF8.GetString(body!);
        if (!DeclaredResource.TryParseAttributes(attributes, out _, out var error))
        {
            return Problems.Result(ErrorCodes.InvalidJson, error);
        }
        var (code, dto, detail) = await host.DeclareAsync(path, attributes);
        return code == ErrorCode.None ? Results.Json(dto!, ProtocolJsonContext.Default.DeclaredResourceDto) : Problems.Result(code, detail);
    }

    private static async Task<IResult> RemoveAsync(HttpContext context, EngineHost host)
    {
        if (!RequestReading.TryReadRoutePath(context, ResourcesPrefix, out var path, out var problem))
        {
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Declare, path) is { } denied)
        {
            return denied;
        }
        var result = await host.RemoveDeclaredAsync(path);
        return result.Error == ErrorCode.None ? Results.NoContent() : Problems.Result(result.Error, result.Detail);
    }

    /// <summary>
    /// py-lockable's HTTP provider reads a JSON array of resource objects, each with an id (<see cref="Wire.Dtos.ResourceList"/>).
    /// </summary>
    /// <remarks>
    /// An unknown pool answers 404, not an empty list: py-lockable reads <c>[]</c> as "no resource matches",
    /// which hides a mistyped URL. A pool is known when it is configured (even with an empty file) or
    /// has at least one resource declared at or under its path.
    /// </remarks>
    private static async Task<IResult> ResourceListAsync(HttpContext context, EngineHost host, IReadOnlyList<PoolOptions> configured)
    {
        var raw = context.Request.Path.Value ?? "";
        if (!raw.EndsWith(ResourceList, StringComparison.Ordinal))
        {
            return Problems.Result(ErrorCodes.NotFound, $"no route {raw}; a pool's resource list is {PoolsPrefix}/{{pool}}{ResourceList}");
        }
        var poolText = raw[PoolsPrefix.Length..^ResourceList.Length];
        if (!RequestReading.TryParsePath(poolText.Length == 0 ? "/" : poolText, out var pool, out var problem))
        {
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Read, PathScope.Under(pool)) is { } denied)
        {
            return denied;
        }
        var (count, json) = await host.PoolResourceListAsync(pool);
        return count == 0 && !IsConfigured(configured, pool)
            ? Problems.Result(ErrorCodes.NotFound, $"no pool {pool}: no configured pool has this path and no resource is declared at or under it")
            : Results.Text(json, "application/json");
    }

    private static bool IsConfigured(IReadOnlyList<PoolOptions> configured, ResourcePath pool)
    {
        foreach (var options in configured)
        {
            // The paths were checked at start, so one that does not parse cannot be the pool.
            if (ResourcePath.TryParse(options.Path, out var path, out _) && path.Equals(pool))
            {
                return true;
            }
        }
        return false;
    }

    private static async Task<IResult> ReloadAsync(HttpContext context, PoolLoader loader)
    {
        // The files are the operator's, for every configured pool: declaring under all of them.
        if (await Access.DenyAsync(context, Right.Declare, PathScope.Root) is { } denied)
        {
            return denied;
        }
        var (result, error) = await loader.ReloadAsync();
        return result is null
            ? Problems.Result(ErrorCodes.InvalidArgument, error)
            : Results.Json(result, ProtocolJsonContext.Default.ReloadDto);
    }

    private static async Task<IResult> HistoryAsync(HttpContext context, EngineHost host)
    {
        var query = context.Request.Query;
        if (!RequestReading.TryParsePath(query.TryGetValue("prefix", out var p) ? p.ToString() : "/", out var prefix, out var problem))
        {
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Read, PathScope.Under(prefix)) is { } denied)
        {
            return denied;
        }
        if (!TryTime(query, "since", long.MinValue, out var since, out problem) || !TryTime(query, "until", long.MaxValue, out var until, out problem))
        {
            return problem!;
        }
        var limit = 100;
        if (query.TryGetValue("limit", out var l) && (!int.TryParse(l, out limit) || limit is < 1 or > 10_000))
        {
            return Problems.Result(ErrorCodes.InvalidArgument, "limit is a whole number between 1 and 10000");
        }
        var owner = query.TryGetValue("owner", out var o) ? o.ToString() : null;
        // A lease may have held paths outside the prefix too: with security on, an entry naming a path the
        // caller may not read is left out rather than shown.
        var readable = Access.Filter(context, Right.Read);
        var dto = await host.HistoryAsync(prefix, owner, since, until, limit, readable);
        return Results.Json(dto, ProtocolJsonContext.Default.HistoryDto);
    }

    private static bool TryTime(IQueryCollection query, string name, long fallback, out long unixMs, out IResult? problem)
    {
        unixMs = fallback;
        problem = null;
        if (!query.TryGetValue(name, out var text))
        {
            return true;
        }
        if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
        {
            unixMs = time.ToUnixTimeMilliseconds();
            return true;
        }
        problem = Problems.Result(ErrorCodes.InvalidArgument, $"{name} is an ISO 8601 time such as 2026-11-26T09:00:00Z");
        return false;
    }

    private static async Task<IResult> UtilizationAsync(HttpContext context, EngineHost host)
    {
        var query = context.Request.Query;
        if (!RequestReading.TryParsePath(query.TryGetValue("prefix", out var p) ? p.ToString() : "/", out var prefix, out var problem))
        {
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Read, PathScope.Under(prefix)) is { } denied)
        {
            return denied;
        }
        var window = 3600.0;
        if (query.TryGetValue("window", out var w) && (!double.TryParse(w, System.Globalization.CultureInfo.InvariantCulture, out window) || !double.IsFinite(window) || window <= 0 || window > 366 * 86400))
        {
            return Problems.Result(ErrorCodes.InvalidArgument, "window is a positive number of seconds, at most 366 days");
        }
        var dto = await host.UtilizationAsync(prefix, window);
        return Results.Json(dto, ProtocolJsonContext.Default.UtilizationDto);
    }
}
