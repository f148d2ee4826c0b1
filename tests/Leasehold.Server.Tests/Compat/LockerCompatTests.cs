namespace Leasehold.Server.Tests.Compat;

/// <summary>
/// Locker's routes, checked black-box by a urllib client (python/locker_client.py): the worked cases of
/// Locker's hierarchy rules, routes, methods and parameters, the bugs not reproduced, and /v1 interop.
/// Each case runs on a fresh server.
/// </summary>
public sealed class LockerCompatTests : ServerTestBase
{
    private const string Script = "locker_client.py";

    /// <summary>Every case of the script, each a test of its own (a test below checks the list is complete).</summary>
    private static readonly string[] Names =
    [
        // The worked cases of seeds.md 2.3.
        "child_lock_blocks_parent_and_grandchild_not_sibling",
        "child_without_lock_parents_lets_parent_lock_and_dohaz_reports_outermost",
        "parent_without_lock_children_lets_child_lock",
        "lock_children_false_on_parent_does_not_override_locked_child",
        "both_flags_false_lock_only_the_exact_path",
        "dohaz_on_partially_locked_parent_reports_first_child",
        "nowant_needs_exact_path_and_exact_token",
        // Routes, methods, parameters, wire format.
        "every_route_takes_get_post_delete",
        "post_form_fields_act_like_query_parameters",
        "only_exact_False_disables_a_flag",
        "failed_canhaz_reports_the_holder_not_the_requester",
        "default_id_is_question_mark",
        "repeated_parameters_take_the_first",
        "dohaz_with_query_parameters_is_404",
        "trailing_slash_and_empty_segments_are_ignored",
        "segments_are_percent_decoded_one_by_one",
        "answers_are_json_in_lockers_format",
        // Locker's bugs, not reproduced.
        "canhaz_without_segments_is_the_root_and_blocks_everything",
        "empty_id_cannot_overwrite_a_lock",
        "concurrent_canhaz_grants_one",
        "invalid_paths_are_400",
        // One engine under both front-ends.
        "v1_lease_blocks_canhaz_and_names_its_owner",
        "locker_lock_is_a_v1_lease",
        "dohaz_names_a_lock_on_or_below_before_a_covering_ancestor",
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
    public Task LockerClientCase(string name) => PythonScript.RunCaseAsync(Script, Server.BaseAddress, name);

    [Fact]
    public async Task EveryScriptCaseIsATest()
        => Assert.Equal((await PythonScript.ListCasesAsync(Script)).Order(StringComparer.Ordinal), Names.Order(StringComparer.Ordinal));
}
