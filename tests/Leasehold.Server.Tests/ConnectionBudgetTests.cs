using Leasehold.Server.Connections;
using Leasehold.Server.Tests.Compat.IdServer;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Leasehold.Server.Tests;

/// <summary>The default connection limits come from the descriptor limit; wrong settings stop start-up naming them.</summary>
public sealed class ConnectionBudgetTests
{
    [Theory]
    [InlineData(2048L, 1536)]
    [InlineData(1024L, 512)]
    [InlineData(100L, ConnectionBudget.Floor)]
    [InlineData(1L << 20, ConnectionBudget.Cap)]
    [InlineData(long.MaxValue, ConnectionBudget.Cap)]
    [InlineData(null, ConnectionBudget.Fallback)]
    public void TheBudgetIsTheLimitLessTheReserveWithinBounds(long? limit, int expected)
        => Assert.Equal(expected, ConnectionBudget.TotalFor(limit));

    [Fact]
    public void TheDescriptorLimitReadIsTheProcessSoftLimit()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Null(ConnectionBudget.DescriptorLimit);
            return;
        }
        // /proc/self/limits: "Max open files            20000                20000                files"
        var line = File.ReadAllLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.Equal(soft == "unlimited" ? long.MaxValue : long.Parse(soft, System.Globalization.CultureInfo.InvariantCulture), ConnectionBudget.DescriptorLimit);
    }

    [Fact]
    public async Task KestrelGetsTheBudgetLessWhatTheIdServerFrontEndTakes()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-budget-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var plain = LeaseholdApp.Build(["--data-dir", dataDir, "--Leasehold:Durability=memory"]);
            Assert.Equal(ConnectionBudget.Total, Limits(plain).MaxConcurrentConnections);
            Assert.Equal(0, Limits(plain).MaxConcurrentUpgradedConnections);
            Assert.Equal(TimeSpan.FromSeconds(120), Limits(plain).KeepAliveTimeout);
            Assert.Equal(TimeSpan.FromSeconds(30), Limits(plain).RequestHeadersTimeout);

            await using var withIdServer = LeaseholdApp.Build(["--data-dir", dataDir, "--Leasehold:Durability=memory", .. IdServerTestBase.Args()]);
            Assert.Equal(ConnectionBudget.Total - ConnectionBudget.IdServerDefault, Limits(withIdServer).MaxConcurrentConnections);
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("--Leasehold:MaxConnections=0", "Leasehold:MaxConnections 0 is not a positive number of connections")]
    [InlineData("--Leasehold:KeepAliveSeconds=0", "Leasehold:KeepAliveSeconds 0 is not a number of seconds from 1 to 86400")]
    [InlineData("--Leasehold:RequestHeadersSeconds=-3", "Leasehold:RequestHeadersSeconds -3 is not a number of seconds from 1 to 86400")]
    public void AWrongSettingStopsStartUpNamingIt(string setting, string message)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-budget-" + Guid.NewGuid().ToString("N"));
        var error = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(["--data-dir", dataDir, setting]));
        Assert.Equal(message, error.Message);
        Assert.False(Directory.Exists(dataDir), "the data directory was created although start-up was refused");
    }

    [Fact]
    public void ConnectionLimitsThatWouldExhaustTheDescriptorsStopStartUp()
    {
        var descriptors = ConnectionBudget.DescriptorLimit;
        Assert.True(descriptors is not null, "this test needs the descriptor limit (Linux)");
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-budget-" + Guid.NewGuid().ToString("N"));
        var tooMany = descriptors - ConnectionBudget.MinimumReserve + 1;
        var error = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(["--data-dir", dataDir, $"--Leasehold:MaxConnections={tooMany}"]));
        Assert.Equal(
            $"Leasehold:MaxConnections {tooMany} and Leasehold:IdServer:MaxConnections 0 leave fewer than 256 of the process's {descriptors} file descriptors "
            + "for the server itself; lower them or raise the limit (ulimit -n)",
            error.Message);
        Assert.False(Directory.Exists(dataDir), "the data directory was created although start-up was refused");
    }

    private static KestrelServerLimits Limits(Microsoft.AspNetCore.Builder.WebApplication app)
        => app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
}
