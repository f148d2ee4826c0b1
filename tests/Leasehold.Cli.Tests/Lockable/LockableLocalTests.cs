using System.Diagnostics;

namespace Leasehold.Cli.Tests.Lockable;

/// <summary><c>leasehold run</c> with py-lockable's flags and a resources FILE: allocation here, with OS lock files.</summary>
public sealed class LockableLocalTests
{
    private static readonly string Host = LockableFiles.Host;

    private static Task<ToolResult> RunAsync(TempDir dir, params string[] args)
        => Tool.RunWithoutServerAsync(["run", "--resources", LockableFiles.Write(dir, LockableFiles.Mixed), "--lock-folder", dir.File("locks"), .. args]);

    [Fact]
    public async Task The_defaults_choose_an_online_resource_on_this_host_and_the_child_gets_its_fields()
    {
        using var dir = new TempDir();

        var result = await RunAsync(dir, "--", "echo \"$ID|$HOSTNAME|$ONLINE|$OS|$LOC|$SPEED|$MY_ATTR|$LEASEHOLD_PATHS|$LEASEHOLD_FENCE\"");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"on|{Host}|True|android|{{'rack': 2}}|1.5|None|on|1\n", result.Stdout);
        Assert.True(File.Exists(dir.File("locks/on.lock")));
    }

    [Fact]
    public async Task The_lock_file_is_named_in_LEASEHOLD_LOCK_FILES_and_the_exit_code_passes_through()
    {
        using var dir = new TempDir();

        var result = await RunAsync(dir, "--requirements", "os=ios", "--", "echo \"$LEASEHOLD_LOCK_FILES\"; exit 7");

        Assert.True(result.ExitCode == 7, result.ToString());
        Assert.Equal(dir.File("locks/ios.lock") + "\n", result.Stdout);
    }

    [Theory]
    [InlineData("""{"os": "ios"}""", "ios")]
    [InlineData("os=ios", "ios")]
    [InlineData("""{"os": {"$in": ["android"]}}""", "on")]
    [InlineData("""{"loc.rack": 2}""", "on")]
    [InlineData("""{"online": null, "os": "android", "speed": {"$exists": false}}""", "off")]
    [InlineData("online=false", "off")]
    [InlineData("""{"hostname": null, "id": "away"}""", "away")]
    public async Task Requirements_as_JSON_or_k_v_with_null_removing_a_default(string requirements, string chosen)
    {
        using var dir = new TempDir();

        var result = await RunAsync(dir, "--requirements", requirements, "--", "echo \"$ID\"");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(chosen + "\n", result.Stdout);
    }

    [Fact]
    public async Task Hostname_replaces_this_machines_name_in_the_default()
    {
        using var dir = new TempDir();

        var result = await RunAsync(dir, "--hostname", "elsewhere", "--", "echo \"$ID\"");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("away\n", result.Stdout);
    }

    [Fact]
    public async Task An_offline_resource_is_not_chosen_by_default_and_nothing_matching_is_exit_74_with_py_lockables_message()
    {
        using var dir = new TempDir();

        var offline = await RunAsync(dir, "--requirements", "id=off", "--", "echo ran");
        var nothing = await RunAsync(dir, "--requirements", """{"os": "windows", "n": 1, "x": [1.0, null, "it's"]}""", "--", "echo ran");

        Assert.True(offline.ExitCode == 74, offline.ToString());
        Assert.Empty(offline.Stdout);
        Assert.Contains($"Suitable resource not available, requirements={{'hostname': '{Host}', 'online': True, 'id': 'off'}}", offline.Stderr, StringComparison.Ordinal);
        Assert.True(nothing.ExitCode == 74, nothing.ToString());
        Assert.Contains(
            $"Suitable resource not available, requirements={{'hostname': '{Host}', 'online': True, 'os': 'windows', 'n': 1, 'x': [1.0, None, \"it's\"]}}",
            nothing.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("locks/off.lock")));
    }

    [Fact]
    public async Task A_held_resource_is_passed_over_for_a_free_one_and_the_only_one_held_times_out()
    {
        using var dir = new TempDir();
        var file = LockableFiles.Write(dir, LockableFiles.Mixed);
        using var holder = Tool.Start(["run", "--resources", file, "--lock-folder", dir.File("locks"), "--requirements", "os=android", "--",
            LockableFiles.HoldUntil(dir.File("started"), dir.File("go"))]);
        Assert.Equal("on", await holder.WaitForFileAsync(dir.File("started")));

        var other = await Tool.RunWithoutServerAsync("run", "--resources", file, "--lock-folder", dir.File("locks"), "--", "echo \"$ID\"");
        var watch = Stopwatch.StartNew();
        var timedOut = await Tool.RunWithoutServerAsync("run", "--resources", file, "--lock-folder", dir.File("locks"), "--requirements", "os=android", "--", "echo ran");
        var elapsed = watch.Elapsed;
        var quick = await Tool.RunWithoutServerAsync("run", "--resources", file, "--lock-folder", dir.File("locks"), "--requirements", "os=android",
            "--timeout", "0", "--", "echo ran");
        await File.WriteAllTextAsync(dir.File("go"), "\n");
        var held = await holder.WaitAsync();
        var after = await Tool.RunWithoutServerAsync("run", "--resources", file, "--lock-folder", dir.File("locks"), "--requirements", "os=android", "--", "echo \"$ID $LEASEHOLD_FENCE\"");

        Assert.True(other.ExitCode == 0, other.ToString());
        Assert.Equal("ios\n", other.Stdout);
        Assert.True(timedOut.ExitCode == 73, timedOut.ToString());
        Assert.Empty(timedOut.Stdout);
        Assert.Contains("Allocation timeout (1s)", timedOut.Stderr, StringComparison.Ordinal);
        Assert.True(elapsed >= TimeSpan.FromSeconds(0.9), $"gave up after {elapsed}");
        Assert.True(quick.ExitCode == 73, quick.ToString());
        Assert.Contains("Allocation timeout (0s)", quick.Stderr, StringComparison.Ordinal);
        Assert.True(held.ExitCode == 0, held.ToString());
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.Equal("on 2\n", after.Stdout);
    }

    [Fact]
    public async Task A_longer_timeout_waits_for_the_resource_to_be_released()
    {
        using var dir = new TempDir();
        var file = LockableFiles.Write(dir, LockableFiles.Mixed);
        using var holder = Tool.Start(["run", "--resources", file, "--lock-folder", dir.File("locks"), "--requirements", "os=ios", "--",
            LockableFiles.HoldUntil(dir.File("started"), dir.File("go"))]);
        await holder.WaitForFileAsync(dir.File("started"));

        using var patient = Tool.Start(["run", "--resources", file, "--lock-folder", dir.File("locks"), "--requirements", "os=ios", "--timeout", "15",
            "--", "echo \"got $ID\""]);
        await Task.Delay(300);
        Assert.False(patient.HasExited, patient.Snapshot());
        await File.WriteAllTextAsync(dir.File("go"), "\n");
        var result = await patient.WaitAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("got ios\n", result.Stdout);
        Assert.True((await holder.WaitAsync()).ExitCode == 0);
    }

    [Fact]
    public async Task The_command_is_mandatory_exit_1_as_in_py_lockable()
    {
        using var dir = new TempDir();

        var result = await RunAsync(dir);
        var withRequirements = await Tool.RunWithoutServerAsync("run", "--requirements", "os=ios");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("command is mandatory", result.Stderr, StringComparison.Ordinal);
        Assert.True(withRequirements.ExitCode == 1, withRequirements.ToString());
        Assert.Contains("command is mandatory", withRequirements.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--requirements", "a=", "Missing value (a=)")]
    [InlineData("--requirements", "{\"a\":", "--requirements: Invalid JSON")]
    [InlineData("--requirements", "[1]", "Missing value ([1])")]
    [InlineData("--path", "/x", "not with --path")]
    [InlineData("--wait", "5", "not with --wait")]
    [InlineData("--timeout", "soon", "--timeout: 'soon' is not a duration")]
    public async Task Malformed_flags_are_usage_errors_64(string option, string value, string message)
    {
        using var dir = new TempDir();

        var result = await RunAsync(dir, option, value, "--", "echo ran");

        Assert.True(result.ExitCode == 64, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task An_unknown_operator_is_refused_with_exit_1()
    {
        using var dir = new TempDir();

        var result = await RunAsync(dir, "--requirements", """{"os": {"$foo": 1}}""", "--", "echo ran");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("$foo", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_defaults_are_resources_json_and_the_lock_folder_in_the_working_directory()
    {
        using var dir = new TempDir();
        LockableFiles.Write(dir, LockableFiles.Mixed);
        var script = $"cd '{dir.Path}' && exec '{Tool.Dotnet}' '{Tool.Dll}' run --requirements os=ios -- 'echo \"$ID\"'";
        using var tool = Tool.StartProgram("sh", ["-c", script]);

        var result = await tool.WaitAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("ios\n", result.Stdout);
        Assert.True(File.Exists(dir.File("ios.lock")));
    }

    [Fact]
    public async Task Words_are_joined_and_run_by_the_shell_as_lockable_does()
    {
        using var dir = new TempDir();

        var result = await RunAsync(dir, "--requirements", "os=ios", "--", "echo", "$ID", "&&", "echo", "two");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("ios\ntwo\n", result.Stdout);
    }

    [Fact]
    public async Task Ids_that_are_not_file_names_get_distinct_lock_files()
    {
        using var dir = new TempDir();
        var file = LockableFiles.Write(dir, $$"""[{"id": "a/b", "hostname": "{{Host}}", "online": true}, {"id": 7, "hostname": "{{Host}}", "online": true}]""");

        var slash = await Tool.RunWithoutServerAsync("run", "--resources", file, "--lock-folder", dir.File("locks"), "--requirements", "id=a/b", "--", "echo \"$ID\"");
        var number = await Tool.RunWithoutServerAsync("run", "--resources", file, "--lock-folder", dir.File("locks"), "--requirements", """{"id": 7}""", "--", "echo \"$ID\"");

        Assert.True(slash.ExitCode == 0, slash.ToString());
        Assert.Equal("a/b\n", slash.Stdout);
        Assert.True(File.Exists(dir.File("locks/a%2Fb.lock")));
        Assert.True(number.ExitCode == 0, number.ToString());
        Assert.Equal("7\n", number.Stdout);
        Assert.True(File.Exists(dir.File("locks/7.lock")));
    }
}
