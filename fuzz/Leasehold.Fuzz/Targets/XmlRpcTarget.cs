using System.Xml;
using System.Xml.Linq;
using Leasehold.Core;
using XmlText = Leasehold.Fuzz.Generators.XmlText;
using Leasehold.Fuzz.Harness;
using Leasehold.Server.Compat;
using Leasehold.Server.Engine;

namespace Leasehold.Fuzz.Targets;

/// <summary>
/// XML-RPC in process, as lockd's endpoint handles a body: <see cref="XmlRpc.ParseCall"/>, then
/// <see cref="LockdService.CallAsync"/> on the real writer, then the answer written. Parsing may only fail with
/// <see cref="XmlException"/> or <see cref="XmlRpcFormatException"/> (both answered as faults), and every answer,
/// a fault included, must be a well-formed XML-RPC response a client can read.
/// </summary>
public static class XmlRpcTarget
{
    public const string Name = "xml-rpc";

    public static FuzzTarget<byte[]> Create() => new(
        Name,
        "XML-RPC bodies of lockd's POST / and /RPC2, parsed, called on the writer, and answered",
        XmlText.Document,
        () => new Checker(),
        Printing.Text);

    internal sealed class Checker : IInputChecker<byte[]>
    {
        private const int InputsPerHost = 5_000;
        private readonly LockdService _service = new(EngineFixture.Path("/lockd"));
        private EngineHost _host = MemoryHost.Create(new LockEngine());
        private int _used;

        public void Check(byte[] input)
        {
            if (++_used % InputsPerHost == 0)
            {
                _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
                _host = MemoryHost.Create(new LockEngine());
            }
            string answer;
            try
            {
                var call = XmlRpc.ParseCall(new MemoryStream(input));
                var (value, fault) = _service.CallAsync(call, _host).GetAwaiter().GetResult();
                answer = fault is null ? XmlRpc.Response(value) : XmlRpc.Fault(LockdFaults.Code, fault);
            }
            catch (XmlException ex)
            {
                answer = XmlRpc.Fault(LockdFaults.Code, LockdFaults.NotWellFormed(ex.Message));
            }
            catch (XmlRpcFormatException ex)
            {
                answer = XmlRpc.Fault(LockdFaults.Code, LockdFaults.NotACall(ex.Message));
            }
            RequireResponse(answer);
        }

        /// <summary>The answer parses as XML and is a <c>methodResponse</c> with params or a fault.</summary>
        private static void RequireResponse(string answer)
        {
            XElement root;
            try
            {
                root = XDocument.Parse(answer).Root!;
            }
            catch (XmlException ex)
            {
                throw new FuzzCheckException($"the answer is not well-formed XML ({ex.Message}): {answer}");
            }
            if (root.Name != "methodResponse" || (root.Element("params") is null && root.Element("fault") is null))
            {
                throw new FuzzCheckException($"the answer is not a methodResponse: {answer}");
            }
        }

        public void Dispose() => _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
