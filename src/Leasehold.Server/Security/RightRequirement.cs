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

/// <summary>
/// What a request touches: its paths, or null for something with no path (a session). With
/// <see cref="Subtree"/>, each path and everything under it (a query by prefix, a pool, a drain): only a rule
/// on a subtree that contains it covers that, never a rule on the one path.
/// </summary>
public sealed record PathScope(IReadOnlyList<ResourcePath>? Paths, bool Subtree = false)
{
    /// <summary>Everything: the whole tree.</summary>
    public static readonly PathScope Root = new([ResourcePath.Root], Subtree: true);

    public static readonly PathScope Anywhere = new((IReadOnlyList<ResourcePath>?)null);

    /// <summary><paramref name="prefix"/> and everything under it.</summary>
    public static PathScope Under(ResourcePath prefix) => new([prefix], Subtree: true);

    public override string ToString() => Paths is null ? "any path" : string.Join(", ", Paths.Select(p => Subtree ? (p.Value == "/" ? "/**" : p.Value + "/**") : p.Value));
}

/// <summary>Decides <see cref="RightRequirement"/>s from the current <see cref="AccessRules"/>.</summary>
public sealed class RightHandler(SecurityState state) : AuthorizationHandler<RightRequirement, PathScope>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RightRequirement requirement, PathScope resource)
    {
        var rules = state.Rules;
        var allowed = resource.Paths is { } paths
            ? rules.Allows(context.User, requirement.Right, paths, resource.Subtree)
            : rules.AllowsSomewhere(context.User, requirement.Right);
        if (allowed)
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
