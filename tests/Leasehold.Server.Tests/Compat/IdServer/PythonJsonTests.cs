using Leasehold.Server.Compat.IdServer;

namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>Strings are escaped exactly as Python 2's json.dumps with ensure_ascii escapes them.</summary>
public sealed class PythonJsonTests
{
    [Theory]
    [InlineData("name-3", "\"name-3\"")]
    [InlineData("", "\"\"")]
    [InlineData("a\"b\\c/d", "\"a\\\"b\\\\c/d\"")]
    [InlineData("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"")]
    [InlineData("\u0000\u001f\u007f", "\"\\u0000\\u001f\\u007f\"")]
    [InlineData("~ \u00e9\u00ff\u0100\uabcd", "\"~ \\u00e9\\u00ff\\u0100\\uabcd\"")]
    [InlineData("\U0001F600", "\"\\ud83d\\ude00\"")]
    public void EscapesAsEnsureAscii(string value, string expected) => Assert.Equal(expected, PythonJson.String(value));

    [Fact]
    public void RepliesHaveIdserversShape()
    {
        Assert.Equal("{\"error\": 0}", IdServerReply.Released);
        Assert.Equal("{\"error\": 0, \"value\": \"0\"}", IdServerReply.Value(PythonJson.String("0")));
        Assert.Equal("{\"error\": 1, \"message\": \"KeyError: 'expire'\"}", IdServerReply.KeyError("expire"));
        Assert.Equal("{\"error\": 1, \"message\": \"Action \\\"x\\\" is not recognized.\"}", IdServerReply.UnknownAction("x"));
    }
}
