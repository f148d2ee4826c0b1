using Leasehold.Core;
using Leasehold.Fuzz.Harness;
using Leasehold.Server.Http;
using Microsoft.AspNetCore.Http;
using ProblemDto = Leasehold.Protocol.ProblemDto;

namespace Leasehold.Fuzz.Targets;

/// <summary>The contract every refusal keeps: a problem body with a stable code and a 4xx status, never a 5xx.</summary>
internal static class ClientErrors
{
    public static void Require(IResult? problem, string where)
    {
        if (problem is not IValueHttpResult<ProblemDto> { Value: { } body } || problem is not IStatusCodeHttpResult status)
        {
            throw new FuzzCheckException($"{where}: the refusal is not a problem body but {problem?.GetType().Name ?? "null"}");
        }
        if (status.StatusCode is not (>= 400 and < 500) || string.IsNullOrEmpty(body.Code))
        {
            throw new FuzzCheckException($"{where}: status {status.StatusCode} code '{body.Code}' ({body.Detail})");
        }
    }

    /// <summary>An engine refusal as the routes answer it.</summary>
    public static void Require(ErrorCode error, string? detail, string where)
    {
        if (error != ErrorCode.None)
        {
            Require(Problems.Result(error, detail), $"{where} ({error})");
        }
    }
}
