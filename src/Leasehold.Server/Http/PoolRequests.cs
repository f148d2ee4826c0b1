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
        var ok = TryReadGroups(body, out groups, out Refusal refusal);
        problem = ok ? null : Problems.Result(refusal);
        return ok;
    }

    public static bool TryReadGroups(AcquireRequest body, out PoolGroup[] groups, out Refusal refusal)
    {
        groups = [];
        refusal = default;
        if (body.Groups is not null && (body.Pool is not null || body.Require is not null || body.Count is not null))
        {
            refusal = new Refusal(ErrorCodes.InvalidArgument, "give either pool, require and count, or groups, not both");
            return false;
        }
        var requests = body.Groups ?? [new GroupRequest { Pool = body.Pool, Require = body.Require, Count = body.Count }];
        groups = new PoolGroup[requests.Length];
        for (var i = 0; i < requests.Length; i++)
        {
            var request = requests[i];
            if (!RequestReading.TryReadPath(request.Pool, out var pool, out refusal))
            {
                return false;
            }
            if (!TryRequirementText(request.Require, out var text, out var error))
            {
                refusal = new Refusal(ErrorCodes.InvalidQuery, error);
                return false;
            }
            groups[i] = new PoolGroup(pool, text, request.Count ?? 1);
        }
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
