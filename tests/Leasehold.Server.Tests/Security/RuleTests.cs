using System.Security.Claims;
using ResourcePath = Leasehold.Core.ResourcePath;
using Leasehold.Server.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Leasehold.Server.Tests.Security;

/// <summary>The rule language: who, which subtree or path, which right; and what a reload does with a bad rule.</summary>
public class RuleTests
{
    private static ClaimsPrincipal User(string? name, params string[] roles) => name is null
        ? new ClaimsPrincipal(new ClaimsIdentity())
        : new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), .. roles.Select(r => new Claim(ClaimTypes.Role, r))], "test", ClaimTypes.Name, ClaimTypes.Role));

    private static ResourcePath P(string text) => ResourcePath.TryParse(text, out var path, out var error) ? path : throw new ArgumentException(error);

    private static SecurityOptions Options(params AccessRule[] rules) => new() { Rules = [.. rules] };

    [Fact]
    public void A_subtree_rule_covers_the_path_and_below_and_an_exact_rule_that_path_only()
    {
        var rules = AccessRules.Parse(Options(
            new AccessRule { Who = ["ci"], Prefix = "/ci/**", Rights = ["lock"] },
            new AccessRule { Who = ["ci"], Prefix = "/lab/rig-1", Rights = ["read"] }));
        var ci = User("ci");
        Assert.True(rules.Allows(ci, Right.Lock, P("/ci")));
        Assert.True(rules.Allows(ci, Right.Lock, P("/ci/a/b")));
        Assert.False(rules.Allows(ci, Right.Lock, P("/cicd")));
        Assert.False(rules.Allows(ci, Right.Lock, P("/")));
        Assert.True(rules.Allows(ci, Right.Read, P("/lab/rig-1")));
        Assert.False(rules.Allows(ci, Right.Read, P("/lab/rig-1/port")));
        Assert.False(rules.Allows(ci, Right.Read, P("/ci/a")));
        Assert.False(rules.Allows(User("other"), Right.Lock, P("/ci/a")));
        // A query by prefix, a pool or a drain covers the whole subtree: only a subtree rule gives that.
        Assert.True(rules.Allows(ci, Right.Lock, P("/ci/a"), subtree: true));
        Assert.False(rules.Allows(ci, Right.Read, P("/lab/rig-1"), subtree: true));
    }

    [Fact]
    public void Roles_star_and_anonymous_name_whom_they_should()
    {
        var options = Options(
            new AccessRule { Who = ["role:lab"], Prefix = "/lab/**", Rights = ["declare"] },
            new AccessRule { Who = ["*"], Prefix = "/**", Rights = ["read"] },
            new AccessRule { Who = ["anonymous"], Prefix = "/public/**", Rights = ["read"] });
        options.Principals["carol"] = new PrincipalEntry { Roles = ["lab"] };
        var rules = AccessRules.Parse(options);
        Assert.True(rules.Allows(User("bob", "lab"), Right.Declare, P("/lab/x")));
        Assert.True(rules.Allows(User("carol"), Right.Declare, P("/lab/x")));
        Assert.False(rules.Allows(User("dave"), Right.Declare, P("/lab/x")));
        Assert.True(rules.Allows(User("dave"), Right.Read, P("/anything")));
        Assert.False(rules.Allows(User(null), Right.Read, P("/anything")));
        Assert.True(rules.Allows(User(null), Right.Read, P("/public/x")));
        Assert.True(rules.AllowsSomewhere(User("bob", "lab"), Right.Declare));
        Assert.False(rules.AllowsSomewhere(User("dave"), Right.Lock));
    }

    [Theory]
    [InlineData("everything", "is not read, lock, declare or admin")]
    [InlineData("1", "is not read, lock, declare or admin")]
    public void A_right_that_does_not_exist_is_refused_with_its_place(string right, string message)
    {
        var ex = Assert.Throws<InvalidDataException>(() => AccessRules.Parse(Options(new AccessRule { Who = ["ci"], Prefix = "/ci/**", Rights = [right] })));
        Assert.Contains("Leasehold:Security:Rules:0:Rights", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_naming_nobody_or_a_bad_prefix_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => AccessRules.Parse(Options(new AccessRule { Prefix = "/ci/**", Rights = ["read"] })));
        Assert.Throws<InvalidDataException>(() => AccessRules.Parse(Options(new AccessRule { Who = ["ci"], Prefix = "ci//x", Rights = ["read"] })));
    }

    [Fact]
    public void A_reload_with_a_malformed_rule_keeps_the_rules_before_it()
    {
        var source = new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Leasehold:Security:Rules:0:Who:0"] = "ci",
                ["Leasehold:Security:Rules:0:Prefix"] = "/ci/**",
                ["Leasehold:Security:Rules:0:Rights:0"] = "lock",
            },
        };
        var configuration = new ConfigurationBuilder().Add(source).Build();
        using var services = new ServiceCollection().Configure<SecurityOptions>(configuration.GetSection(SecurityOptions.Section)).BuildServiceProvider();
        using var state = new SecurityState(services.GetRequiredService<IOptionsMonitor<SecurityOptions>>(), enabled: true, NullLoggerFactory.Instance);
        var ci = User("ci");
        Assert.True(state.Rules.Allows(ci, Right.Lock, P("/ci/a")));

        var provider = (MemoryConfigurationProvider)configuration.Providers.Single();
        provider.Set("Leasehold:Security:Rules:1:Who:0", "ci");
        provider.Set("Leasehold:Security:Rules:1:Rights:0", "everything");
        configuration.Reload();
        Assert.True(state.Rules.Allows(ci, Right.Lock, P("/ci/a")));

        provider.Set("Leasehold:Security:Rules:1:Rights:0", "read");
        configuration.Reload();
        Assert.True(state.Rules.Allows(ci, Right.Read, P("/anything")));
    }
}
