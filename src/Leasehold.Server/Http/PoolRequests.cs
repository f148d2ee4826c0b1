using System.Text.Json;
using Leasehold.Core.Pools;
using Leasehold.Core.Query;
using Leasehold.Protocol;

namespace Leasehold.Server.Http;

/// <summary>Reads the pool part of an acquire: one group (pool, require, count) or several (groups).</summary>
internal static class PoolRequests
{
    public static bool TryReadGroups(AcquireRequest body, out PoolGroup[] groups, out IResult? problem)
    {
        groups = [];
        if (body.Groups is not null && (body.Pool is not null || body.Require is not null || body.Count is not null))
        {
            problem = Problems.Result(ErrorCodes.InvalidArgument, "give either pool, require and count, or groups, not both");
            return false;
        }
        var requests = body.Groups ?? [new GroupRequest { Pool = body.Pool, Require = body.Require, Count = body.Count }];
        groups = new PoolGroup[requests.Length];
        for (var i = 0; i < requests.Length; i++)
        {
            var request = requests[i];
            if (!RequestReading.TryParsePath(request.Pool, out var pool, out problem))
            {
                return false;
            }
            if (!TryRequirementText(request.Require, out var text, out var error))
            {
                problem = Problems.Result(ErrorCodes.InvalidQuery, error);
                return false;
            }
            groups[i] = new PoolGroup(pool, text, request.Count ?? 1);
        }
        problem = null;
        return true;
    }

    /// <summary>A requirement as JSON text: a query object as given, or a <c>k=v&amp;…</c> string turned into one.</summary>
    public static bool TryRequirementText(JsonElement? require, out string text, out string error)
    {
        text = "{}";
        error = "";
        switch (require)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                return true;
            case { ValueKind: JsonValueKind.Object } query:
                text = query.GetRawText();
                return true;
            case { ValueKind: JsonValueKind.String } shorthand when RequirementText.TryParse(shorthand.GetString(), out var parsed, out error):
                text = parsed.GetRawText();
                return true;
            case { ValueKind: JsonValueKind.String }:
                return false;
            default:
                error = "require is a query object or a 'k=v&k2=v2' string";
                return false;
        }
    }
}
