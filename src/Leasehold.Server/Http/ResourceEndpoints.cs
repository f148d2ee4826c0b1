using System.Text.Json.Nodes;
using Leasehold.Protocol;
using Leasehold.Server.Engine;
using Leasehold.Server.Security;
using Microsoft.OpenApi;

namespace Leasehold.Server.Http;

/// <summary>Read-only views: one path's holders and queue, held paths under a prefix, fencing checks.</summary>
internal static class ResourceEndpoints
{
    private const string ResourcesPrefix = "/v1/resources";
    private const string FencesPrefix = "/v1/fences";
    private const int DefaultListLimit = 1000;
    private const int MaxListLimit = 10_000;

    // Enough to name what blocks a path without letting one answer grow with the whole tree.
    private const int MaxSurroundings = 100;

    public static void MapResourceEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(ResourcesPrefix, ListAsync).WithTags("Resources").WithName("ListResources")
            .WithMetadata(QueryParameter.Prefix("Held paths"), new QueryParameter("limit", JsonSchemaType.Integer, "At most this many paths, 1 to 10000 (default 1000); `truncated` says when more are held.", JsonValue.Create(100)))
            .Produces<ResourceListDto>()
            .WithSummary("Held paths at or under a prefix (query: prefix, limit)");
        app.MapGet(ResourcesPrefix + "/{**path}", GetAsync).WithTags("Resources").WithName("GetResource")
            .Produces<ResourceDto>()
            .Produces<ProblemDto>(StatusCodes.Status400BadRequest, ProblemDto.ContentType)
            .WithSummary("Holders and queue of one path, and the leases and requests above and below it that block it");
        app.MapGet(FencesPrefix + "/{**path}", CheckFenceAsync).WithTags("Resources").WithName("CheckFence")
            .WithMetadata(new QueryParameter("fence", JsonSchemaType.Integer, "The fencing token to check, a positive whole number.", JsonValue.Create(7), Required: true))
            .Produces<FenceDto>()
            .WithSummary("Is fencing token `fence` held on the path right now?");
    }

    private static async Task<IResult> GetAsync(HttpContext context, EngineHost host)
    {
        if (!RequestReading.TryReadRoutePath(context, ResourcesPrefix, out var path, out var problem))
        {
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Read, path) is { } denied)
        {
            return denied;
        }
        var dto = await host.DescribeResourceAsync(path, MaxSurroundings);
        return Results.Json(dto, ProtocolJsonContext.Default.ResourceDto);
    }

    private static async Task<IResult> ListAsync(HttpContext context, EngineHost host)
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
        var limit = DefaultListLimit;
        if (query.TryGetValue("limit", out var l) && (!int.TryParse(l, out limit) || limit < 1 || limit > MaxListLimit))
        {
            return Problems.Result(ErrorCodes.InvalidArgument, $"limit is a whole number between 1 and {MaxListLimit}");
        }
        var dto = await host.ListHeldAsync(prefix, limit);
        return Results.Json(dto, ProtocolJsonContext.Default.ResourceListDto);
    }

    private static async Task<IResult> CheckFenceAsync(HttpContext context, EngineHost host)
    {
        if (!RequestReading.TryReadRoutePath(context, FencesPrefix, out var path, out var problem))
        {
            return problem!;
        }
        if (await Access.DenyAsync(context, Right.Read, path) is { } denied)
        {
            return denied;
        }
        if (!long.TryParse(context.Request.Query["fence"], out var fence) || fence < 1)
        {
            return Problems.Result(ErrorCodes.InvalidArgument, "the query parameter fence is a positive whole number");
        }
        var dto = await host.CheckFenceAsync(path, fence);
        return Results.Json(dto, ProtocolJsonContext.Default.FenceDto);
    }
}
