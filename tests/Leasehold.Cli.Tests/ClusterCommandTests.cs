using System.Net;
using System.Text.Json;
using Leasehold.Server;
using Microsoft.AspNetCore.Builder;

namespace Leasehold.Cli.Tests;

/// <summary>
/// <c>leasehold cluster ...</c> against a real one-node cluster in process (a cluster of one elects itself), and
/// against a single server, which is no cluster.
/// </summary>
public sealed class ClusterCommandTests(CliServer single) : IClassFixture<CliServer>, IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "leasehold-cli-cluster-" + Guid.NewGuid().ToString("N"));
    private WebApplication? _node;
    private Uri _address = null!;
    private string _raft = "";

    public async Task InitializeAsync()
    {
        var http = Tool.ClosedPort();
        _raft = $"127.0.0.1:{Tool.ClosedPort()}";
        _node = LeaseholdApp.Build(["--urls", $"http://127.0.0.1:{http}", "--Leasehold:Native:Port=0", "--data-dir", _dataDir, "--cluster-node", _raft,
            "--cluster-members", _raft, "--Logging:LogLevel:Default=Warning"]);
        using var cts = new CancellationTokenSource(Tool.Timeout);
        await _node.StartAsync(cts.Token);
        _address = new Uri($"http://127.0.0.1:{http}/");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        Assert.True(await CliServer.EventuallyAsync(async () =>
        {
            using var ready = await client.GetAsync(new Uri(_address, "readyz"));
            return ready.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30)), "the one-node cluster never became ready");
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.StopAsync();
            await _node.DisposeAsync();
        }
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task Status_names_the_node_its_role_and_its_members()
    {
        var text = await Tool.RunAsync(_address, "cluster", "status");
        var json = await Tool.RunAsync(_address, "cluster", "status", "--json");

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains($"node {_raft}: leader, term ", text.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{_raft} (this node)", text.Stdout, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.ToString());
        var status = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("leader", status.GetProperty("role").GetString());
        Assert.Equal(_raft, status.GetProperty("leader").GetString());
        Assert.Equal(0, status.GetProperty("lag").GetInt64());
    }

    [Fact]
    public async Task A_member_is_added_and_removed_from_the_command_line()
    {
        // A second node, started with the member list it joins (docs/cluster.md, Membership).
        var http = Tool.ClosedPort();
        var raft = $"127.0.0.1:{Tool.ClosedPort()}";
        var dir = _dataDir + "-second";
        var second = LeaseholdApp.Build(["--urls", $"http://127.0.0.1:{http}", "--Leasehold:Native:Port=0", "--data-dir", dir, "--cluster-node", raft,
            "--cluster-members", $"{_raft},{raft}", "--Logging:LogLevel:Default=Warning"]);
        try
        {
            using (var cts = new CancellationTokenSource(Tool.Timeout))
            {
                await second.StartAsync(cts.Token);
            }
            var added = await Tool.RunAsync(_address, "cluster", "add", raft, "--json");
            Assert.True(added.ExitCode == 0, added.ToString());
            Assert.Equal(new[] { _raft, raft }.Order(StringComparer.Ordinal), Members(added.Stdout).Order(StringComparer.Ordinal));
            // The new node follows the leader.
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            Assert.True(await CliServer.EventuallyAsync(async () =>
            {
                using var view = await client.GetAsync(new Uri($"http://127.0.0.1:{http}/v1/cluster"));
                var body = await view.Content.ReadAsStringAsync();
                return view.IsSuccessStatusCode && body.Contains("\"role\":\"follower\"", StringComparison.Ordinal)
                    && body.Contains($"\"leader\":\"{_raft}\"", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(30)), "the added node never followed the leader");

            var removed = await Tool.RunAsync(_address, "cluster", "remove", raft);
            Assert.True(removed.ExitCode == 0, removed.ToString());
            var status = await Tool.RunAsync(_address, "cluster", "status", "--json");
            Assert.Equal([_raft], Members(status.Stdout));
        }
        finally
        {
            await second.StopAsync();
            await second.DisposeAsync();
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static string[] Members(string json)
        => [.. JsonDocument.Parse(json).RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("endpoint").GetString()!)];

    [Fact]
    public async Task Removing_a_stranger_or_adding_nonsense_is_refused_and_changes_nothing()
    {
        var stranger = await Tool.RunAsync(_address, "cluster", "remove", "127.0.0.1:9", "--json");
        var nonsense = await Tool.RunAsync(_address, "cluster", "add", "not an endpoint", "--json");
        var status = await Tool.RunAsync(_address, "cluster", "status", "--json");

        Assert.True(stranger.ExitCode == 1, stranger.ToString());
        Assert.Contains("\"error\":\"not-found\"", stranger.Stderr, StringComparison.Ordinal);
        Assert.True(nonsense.ExitCode != 0, nonsense.ToString());
        Assert.Contains("\"error\":\"invalid-argument\"", nonsense.Stderr, StringComparison.Ordinal);
        Assert.Single(JsonDocument.Parse(status.Stdout).RootElement.GetProperty("members").EnumerateArray());
    }

    [Fact]
    public async Task A_single_server_is_no_cluster()
    {
        var result = await Tool.RunAsync(single, "cluster", "status", "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("\"error\":\"not-found\"", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json", "invalid-json")]
    [InlineData("", "invalid-json")]
    [InlineData("{\"endpoint\": 7}", "invalid-json")]
    [InlineData("{\"endpoint\": \"no port\"}", "invalid-argument")]
    public async Task A_bad_membership_body_is_a_400_with_its_code_and_changes_nothing(string body, string code)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        using var response = await http.PostAsync(new Uri(_address, "v1/cluster/members"), content);
        var status = await Tool.RunAsync(_address, "cluster", "status", "--json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        Assert.Single(JsonDocument.Parse(status.Stdout).RootElement.GetProperty("members").EnumerateArray());
    }

    [Theory]
    [InlineData("--Leasehold:Cluster:RequestTimeoutMs=0", "RequestTimeoutMs")]
    [InlineData("--Leasehold:Cluster:ElectionTimeoutMs=10", "ElectionTimeoutMs")]
    [InlineData("--urls=http://127.0.0.1:0", "fixed port")]
    public void Cluster_settings_out_of_range_are_refused_at_start(string setting, string named)
    {
        var raft = $"127.0.0.1:{Tool.ClosedPort()}";
        string[] args = ["--urls", $"http://127.0.0.1:{Tool.ClosedPort()}", "--data-dir", _dataDir + "-refused", "--cluster-node", raft, "--cluster-members", raft, setting];

        var refusal = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build(args));

        Assert.Contains(named, refusal.Message, StringComparison.Ordinal);
    }
}
