namespace Leasehold.Server.Tests.Compat;

/// <summary>
/// gocept.lockd's XML-RPC endpoint, checked black-box by an xmlrpc.client client (python/lockd_client.py):
/// lock and unlock, every fault string, introspection, refused names, malformed requests, /v1 interop.
/// Each case runs on a fresh server.
/// </summary>
public sealed class LockdCompatTests : ServerTestBase
{
    private const string Script = "lockd_client.py";

    /// <summary>Every case of the script, each a test of its own (a test below checks the list is complete).</summary>
    private static readonly string[] Names =
    [
        "lock_and_unlock_return_none",
        "both_paths_serve_the_same_locks",
        "already_locked_fault_names_the_holder",
        "lock_is_not_reentrant",
        "unlock_faults_exactly",
        "client_names_are_exact_not_stripped",
        "names_are_quoted_like_python_repr",
        "unknown_method_fault",
        "wrong_argument_count_is_a_type_error",
        "introspection",
        "traversal_names_are_refused",
        "malformed_xml_is_answered_with_a_fault",
        "success_answer_is_xmlrpclib_nil",
        "untyped_values_are_strings",
        "locks_are_visible_in_v1_both_ways",
        "concurrent_locks_grant_one",
    ];

    public static TheoryData<string> Cases
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in Names)
            {
                data.Add(name);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public Task LockdClientCase(string name) => PythonScript.RunCaseAsync(Script, Server.BaseAddress, name);

    [Fact]
    public async Task EveryScriptCaseIsATest()
        => Assert.Equal((await PythonScript.ListCasesAsync(Script)).Order(StringComparer.Ordinal), Names.Order(StringComparer.Ordinal));
}
