namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>Every idserver message, exactly as idserver's json.dumps writes it, over UDP and over TCP.</summary>
public sealed class MessageTests : IdServerTestBase
{
    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task GetAnswersAnIdAndTheClientReturnsIt(string transport)
    {
        var results = await RunAsync(transport,
            Op("obj", new System.Text.Json.Nodes.JsonObject { ["action"] = "get", ["owner"] = "client-1", ["expire"] = 10 }),
            Op("get", "client-2", 10));
        AssertReply(transport, """{"error": 0, "value": "name-0"}""", results[0]);
        Assert.Equal("name-1", Value(results[1]));
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task NoFreeIdIsIdExhaustedAtOnce(string transport)
    {
        var results = await RunAsync(transport,
            Op("get", "a", 30), Op("get", "b", 30), Op("get", "c", 30),
            Op("raw", """{"action": "get", "owner": "d", "expire": 30}"""),
            Op("get", "d", 30));
        Assert.Equal(["name-0", "name-1", "name-2"], results[..3].Select(Value).Order(StringComparer.Ordinal));
        AssertReply(transport, """{"error": 1, "message": "id exhausted"}""", results[3]);
        Assert.Equal("id exhausted", Error(results[4]));
        Assert.True(Time(results[4]) - Time(results[2]) < 5, "a full pool is answered at once, without waiting");
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task PutIsSilentAndReleasesTheOwnersId(string transport)
    {
        var results = await RunAsync(transport,
            Op("raw", """{"action": "put", "owner": "never-seen"}"""),
            Op("get", "a", 30),
            Op("raw", """{"action": "put", "owner": "a"}"""),
            Op("raw", """{"action": "put", "owner": "a"}"""),
            Op("put", "a"));
        AssertReply(transport, """{"error": 0}""", results[0]);
        var id = Value(results[1]);
        AssertReply(transport, """{"error": 0}""", results[2]);
        AssertReply(transport, """{"error": 0}""", results[3]);
        Assert.True(results[4].GetProperty("ok").GetBoolean());
        Assert.Empty(await HoldersAsync(id));
        Assert.Equal(0, await LeaseCountAsync());
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task AMissingKeyIsAKeyErrorCheckedInIdserversOrder(string transport)
    {
        (string Request, string Key)[] cases =
        [
            ("{}", "action"),
            ("""{"owner": "a", "expire": 1}""", "action"),
            ("""{"action": "get"}""", "owner"),
            ("""{"action": "get", "expire": 1}""", "owner"),
            ("""{"action": "get", "owner": "a"}""", "expire"),
            ("""{"action": "put"}""", "owner"),
            ("""{"action": "put", "expire": 1}""", "owner"),
        ];
        var results = await RunAsync(transport, [.. cases.Select(c => Op("raw", c.Request))]);
        for (var i = 0; i < cases.Length; i++)
        {
            AssertReply(transport, $$"""{"error": 1, "message": "KeyError: '{{cases[i].Key}}'"}""", results[i]);
        }
        Assert.Equal(0, await LeaseCountAsync());
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task AnUnknownActionIsNamedAsPythonShowsIt(string transport)
    {
        var results = await RunAsync(transport,
            Op("raw", """{"action": "del", "owner": "a"}"""),
            Op("raw", """{"action": "GET", "owner": "a", "expire": 1}"""),
            Op("raw", """{"action": 7}"""),
            Op("raw", """{"action": null}"""),
            Op("raw", """{"action": true}"""));
        AssertReply(transport, """{"error": 1, "message": "Action \"del\" is not recognized."}""", results[0]);
        AssertReply(transport, """{"error": 1, "message": "Action \"GET\" is not recognized."}""", results[1]);
        AssertReply(transport, """{"error": 1, "message": "Action \"7\" is not recognized."}""", results[2]);
        AssertReply(transport, """{"error": 1, "message": "Action \"None\" is not recognized."}""", results[3]);
        AssertReply(transport, """{"error": 1, "message": "Action \"True\" is not recognized."}""", results[4]);
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task BadJsonIsNoJsonObjectCouldBeDecoded(string transport)
    {
        string[] requests = ["not json", "{", "", "[1", """{"action": "get",}""", """{"action": "put", "owner": "a"} x"""];
        var results = await RunAsync(transport, [.. requests.Select(r => Op("raw", r))]);
        foreach (var result in results)
        {
            AssertReply(transport, """{"error": 1, "message": "No JSON object could be decoded"}""", result);
        }
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task ANonNumericExpireIsAClearError(string transport)
    {
        var results = await RunAsync(transport,
            Op("raw", """{"action": "get", "owner": "a", "expire": "10"}"""),
            Op("raw", """{"action": "get", "owner": "a", "expire": null}"""),
            Op("raw", """{"action": "get", "owner": "a", "expire": [10]}"""),
            Op("raw", """{"action": "get", "owner": "a", "expire": 1e12}"""),
            Op("raw", """{"action": "get", "owner": ["a"], "expire": 10}"""),
            Op("raw", "[1, 2]"));
        AssertReply(transport, """{"error": 1, "message": "expire must be a number of seconds, not a string"}""", results[0]);
        AssertReply(transport, """{"error": 1, "message": "expire must be a number of seconds, not null"}""", results[1]);
        AssertReply(transport, """{"error": 1, "message": "expire must be a number of seconds, not a list"}""", results[2]);
        AssertReply(transport, """{"error": 1, "message": "expire must be a number of seconds up to 31622400 (366 days)"}""", results[3]);
        AssertReply(transport, """{"error": 1, "message": "owner must be a string, not a list"}""", results[4]);
        AssertReply(transport, """{"error": 1, "message": "the request must be a JSON object"}""", results[5]);
        Assert.Equal(0, await LeaseCountAsync());
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task RepliesAreAsciiWithNonAsciiEscapedAsPythonDoes(string transport)
    {
        var results = await RunAsync(transport,
            Op("raw", "{\"action\": \"\u00fc\u2603\U0001D11E\\n\\\"\\\\\"}"),
            Op("get", "client-\u00e9", 30));
        AssertReply(transport, """{"error": 1, "message": "Action \"\u00fc\u2603\ud834\udd1e\n\"\\\" is not recognized."}""", results[0]);
        Assert.Equal("name-0", Value(results[1]));
        Assert.Equal("client-\u00e9", (await HoldersAsync("name-0")).Single().GetProperty("owner").GetString());
    }
}
