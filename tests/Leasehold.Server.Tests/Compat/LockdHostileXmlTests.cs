using System.Text;
using System.Xml.Linq;

namespace Leasehold.Server.Tests.Compat;

/// <summary>
/// Bodies the fuzzing harness (docs/fuzzing.md) found mishandled by lockd's XML-RPC endpoint: each is answered
/// at once with a fault that is itself well-formed XML, and the server goes on serving.
/// </summary>
public sealed class LockdHostileXmlTests : ServerTestBase
{
    private async Task<XElement> CallAsync(byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/xml");
        using var response = await Client.PostAsync(new Uri("/RPC2", UriKind.Relative), content);
        Assert.True(response.IsSuccessStatusCode, $"status {(int)response.StatusCode}");
        var text = await response.Content.ReadAsStringAsync();
        // The answer must parse: a client reads it with an XML parser too.
        return XDocument.Parse(text).Root!;
    }

    private static string FaultString(XElement response)
        => response.Descendants("member").Single(m => m.Element("name")?.Value == "faultString").Element("value")!.Value;

    [Theory]
    [InlineData(new byte[] { 0x05, 0x41 })]
    [InlineData(new byte[] { 0x3C, 0x61, 0x3E, 0x01, 0x3C, 0x2F, 0x61, 0x3E })]
    public async Task FaultQuotingAnInvalidCharacterIsWellFormed(byte[] body)
    {
        var response = await CallAsync(body);

        Assert.Contains("ExpatError", FaultString(response), StringComparison.Ordinal);
        Assert.Contains('\ufffd', FaultString(response));
    }

    [Fact]
    public async Task BytesThatBreakTheXmlDeclarationAreAFault()
    {
        // <?xml version='1.0 followed by bytes that are not UTF-8: System.Xml's reader threw ArgumentOutOfRangeException (a 500).
        var response = await CallAsync(Convert.FromHexString("3C3F786D6C2076657273696F6E3D27312E30F0F0F0F0F0F0F0273F3E"));

        Assert.Contains("ExpatError", FaultString(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeeplyNestedElementsAreRefusedBeforeTheTreeIsBuilt()
    {
        // As deep as the default body limit allows: the tree took half a second of processor time to build
        // (quadratic in the depth) before the depth was bounded, for one 63 KB request.
        const int Depth = 9_000;
        var body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("<a>", Depth)) + string.Concat(Enumerable.Repeat("</a>", Depth)));

        var response = await CallAsync(body);

        Assert.Contains("nested more than", FaultString(response), StringComparison.Ordinal);
        using var health = await GetAsync("/healthz");
        Assert.True(health.IsSuccessStatusCode);
    }
}
