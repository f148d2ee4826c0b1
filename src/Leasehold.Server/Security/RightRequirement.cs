using Leasehold.Core;
using Microsoft.AspNetCore.Authorization;

namespace Leasehold.Server.Security;

/// <summary>An ASP.NET Core authorization requirement: <see cref="Right"/> on the paths of a <see cref="PathScope"/>.</summary>
public sealed class RightRequirement(Right right) : IAuthorizationRequirement
{
    public Right Right { get; } = right;

    private static readonly RightRequirement[] ByRight = [.. Enum.GetValues<Right>().Select(r => new RightRequirement(r))];

    public static RightRequirement Of(Right right) => ByRight[(int)right];
}

/// <summary>What a request touches: its paths, or null for something with no path (a session).</summary>
public sealed record PathScope(IReadOnlyList<ResourcePath>? Paths)
{
    public static readonly PathScope Root = new([ResourcePath.Root]);

    public static readonly PathScope Anywhere = new((IReadOnlyList<ResourcePath>?)null);

    public override string ToString() => Paths is null ? "any path" : string.Join(", ", Paths.Select(p => p.Value));
}

/// <summary>Decides <see cref="RightRequirement"/>s from the current <see cref="AccessRules"/>.</summary>
public sealed class RightHandler(SecurityState state) : AuthorizationHandler<RightRequirement, PathScope>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RightRequirement requirement, PathScope resource)
    {
        var rules = state.Rules;
        var allowed = resource.Paths is { } paths
            ? rules.Allows(context.User, requirement.Right, paths)
            : rules.AllowsSomewhere(context.User, requirement.Right);
        if (allowed)
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
