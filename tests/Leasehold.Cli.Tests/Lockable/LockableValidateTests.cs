namespace Leasehold.Cli.Tests.Lockable;

/// <summary><c>leasehold run --validate-only</c>: py-lockable's file checks and messages, exit 0 or 1.</summary>
public sealed class LockableValidateTests
{
    [Fact]
    public async Task A_valid_file_is_exit_0_with_or_without_a_dummy_command_which_is_not_run()
    {
        using var dir = new TempDir();
        var file = LockableFiles.Write(dir, LockableFiles.Mixed);

        var bare = await Tool.RunWithoutServerAsync("run", "--validate-only", "--resources", file);
        var dummy = await Tool.RunWithoutServerAsync("run", "--validate-only", "--resources", file, "--", $"echo ran > {dir.File("ran")}");

        Assert.True(bare.ExitCode == 0, bare.ToString());
        Assert.Equal($"{file}: 4 resources, valid\n", bare.Stdout);
        Assert.True(dummy.ExitCode == 0, dummy.ToString());
        Assert.False(File.Exists(dir.File("ran")));
    }

    [Theory]
    [InlineData("""[{"id": "1"}, {"id": "1"}]""", "Invalid json, duplicate ids in ['1']")]
    [InlineData("""[{"id": "1"}, {"hostname": "h"}]""", "Invalid json, id property is missing")]
    [InlineData("""[{"id": null}]""", "Invalid json, id property is missing")]
    [InlineData("""{"id": "1"}""", "invalid resources json file: ")]
    [InlineData("""[{"id": "1"}""", "invalid resources json file: ")]
    public async Task An_invalid_file_is_exit_1_with_py_lockables_message(string json, string message)
    {
        using var dir = new TempDir();
        var file = LockableFiles.Write(dir, json);

        var validate = await Tool.RunWithoutServerAsync("run", "--validate-only", "--resources", file, "--", "echo ran");
        var allocate = await Tool.RunWithoutServerAsync("run", "--resources", file, "--lock-folder", dir.Path, "--requirements", "{\"hostname\": null, \"online\": null}", "--", "echo ran");

        Assert.True(validate.ExitCode == 1, validate.ToString());
        Assert.Contains(message, validate.Stderr, StringComparison.Ordinal);
        Assert.Empty(validate.Stdout);
        Assert.True(allocate.ExitCode == 1, allocate.ToString());
        Assert.Contains(message, allocate.Stderr, StringComparison.Ordinal);
        Assert.Empty(allocate.Stdout);
    }

    [Fact]
    public async Task A_missing_file_is_exit_1()
    {
        using var dir = new TempDir();

        var result = await Tool.RunWithoutServerAsync("run", "--validate-only", "--resources", dir.File("nope.json"));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("nope.json", result.Stderr, StringComparison.Ordinal);
    }
}
