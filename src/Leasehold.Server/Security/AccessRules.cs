using System.Security.Claims;
using Leasehold.Core;

namespace Leasehold.Server.Security;

/// <summary>
/// The rules of <see cref="SecurityOptions.Rules"/>, parsed once per settings change. A request is allowed
/// when one rule names its principal (by name, role, <c>*</c> or <c>anonymous</c>), covers its path and
/// grants the right; <see cref="Right.Admin"/> grants every right. Nothing is allowed by default.
/// </summary>
public sealed class AccessRules
{
    private readonly Rule[] _rules;
    private readonly Dictionary<string, string[]> _roles;

    private AccessRules(Rule[] rules, Dictionary<string, string[]> roles)
    {
        _rules = rules;
        _roles = roles;
    }

    private sealed record Rule(string[] Who, ResourcePath Prefix, bool Subtree, Right[] Rights, string Text);

    /// <summary>Parses the rules; a malformed one is an error naming it (start-up refuses, a reload keeps the old rules).</summary>
    public static AccessRules Parse(SecurityOptions options)
    {
        var rules = new List<Rule>(options.Rules.Count);
        for (var i = 0; i < options.Rules.Count; i++)
        {
            var rule = options.Rules[i];
            var where = $"{SecurityOptions.Section}:Rules:{i}";
            if (rule.Who.Count == 0)
            {
                throw new InvalidDataException($"{where}:Who names nobody (give principal names, role:NAME, * or anonymous)");
            }
            var text = rule.Prefix.Trim();
            var subtree = text.EndsWith("/**", StringComparison.Ordinal) || text == "**";
            var pathText = subtree ? text[..^2].TrimEnd('/') : text;
            if (!ResourcePath.TryParse(pathText.Length == 0 ? "/" : pathText, out var prefix, out var error))
            {
                throw new InvalidDataException($"{where}:Prefix '{rule.Prefix}' is not a path: {error}");
            }
            var rights = new Right[rule.Rights.Count];
            for (var r = 0; r < rights.Length; r++)
            {
                if (!Enum.TryParse(rule.Rights[r], ignoreCase: true, out rights[r]) || !Enum.IsDefined(rights[r]) || int.TryParse(rule.Rights[r], out _))
                {
                    throw new InvalidDataException($"{where}:Rights: '{rule.Rights[r]}' is not read, lock, declare or admin");
                }
            }
            rules.Add(new Rule([.. rule.Who.Select(w => w.Trim())], prefix, subtree, rights, $"{string.Join(",", rule.Who)} {rule.Prefix} {string.Join(",", rule.Rights)}"));
        }
        var roles = options.Principals.ToDictionary(p => p.Key, p => p.Value.Roles.ToArray(), StringComparer.Ordinal);
        return new AccessRules([.. rules], roles);
    }

    /// <summary>
    /// Whether <paramref name="user"/> has <paramref name="right"/> on every one of <paramref name="paths"/> (with
    /// <paramref name="subtree"/>: on each and everything under it).
    /// </summary>
    public bool Allows(ClaimsPrincipal user, Right right, IEnumerable<ResourcePath> paths, bool subtree = false)
    {
        foreach (var path in paths)
        {
            if (!Allows(user, right, path, subtree))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Whether <paramref name="user"/> has <paramref name="right"/> on <paramref name="path"/>, or with
    /// <paramref name="subtree"/> on it and everything under it (a query by prefix, a pool, a drain), which only
    /// a rule on a subtree containing it gives.
    /// </summary>
    public bool Allows(ClaimsPrincipal user, Right right, ResourcePath path, bool subtree = false) =>
        _rules.Any(rule => Grants(rule, right) && Covers(rule, path, subtree) && Names(rule, user));

    /// <summary>Whether <paramref name="user"/> has <paramref name="right"/> on some path (for what has no path, such as a session).</summary>
    public bool AllowsSomewhere(ClaimsPrincipal user, Right right) =>
        _rules.Any(rule => Grants(rule, right) && Names(rule, user));

    private static bool Grants(Rule rule, Right right) => rule.Rights.Contains(right) || rule.Rights.Contains(Right.Admin);

    private static bool Covers(Rule rule, ResourcePath path, bool subtree) =>
        rule.Subtree ? rule.Prefix.IsAncestorOrSelf(path) : !subtree && rule.Prefix.Equals(path);

    private bool Names(Rule rule, ClaimsPrincipal user)
    {
        var name = Caller.NameOf(user);
        foreach (var who in rule.Who)
        {
            var match = who switch
            {
                "anonymous" => name is null,
                "*" => name is not null,
                _ when who.StartsWith("role:", StringComparison.Ordinal) => name is not null && HasRole(user, name, who["role:".Length..]),
                _ => name is not null && string.Equals(who, name, StringComparison.Ordinal),
            };
            if (match)
            {
                return true;
            }
        }
        return false;
    }

    private bool HasRole(ClaimsPrincipal user, string name, string role) =>
        user.IsInRole(role) || (_roles.TryGetValue(name, out var configured) && configured.Contains(role, StringComparer.Ordinal));
}
