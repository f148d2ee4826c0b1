namespace Leasehold.Cli.Tests;

/// <summary>The live waiting line, on a real terminal: the tool runs under util-linux <c>script</c>, which gives it a pty.</summary>
public sealed class TerminalTests(CliServer server) : IClassFixture<CliServer>
{
    [Fact]
    public async Task On_a_terminal_the_wait_is_a_live_line_with_the_elapsed_time_and_queue_position()
    {
        Assert.True(File.Exists("/usr/bin/script") || File.Exists("/bin/script"), "util-linux script is needed to give the tool a terminal");
        var path = CliServer.UniquePath("tty");
        var held = await Tool.RunAsync(server, "lock", "--path", path, "--ttl", "30", "--owner", "keeper");
        Assert.True(held.ExitCode == 0, held.ToString());
        var command = $"'{Tool.Dotnet}' '{Tool.Dll}' run --path {path} --wait 1.8 --owner tty-user -- true";

        using var script = Tool.StartProgram("script", ["-qefc", command, "/dev/null"], server.BaseAddress);
        var result = await script.WaitAsync();

        Assert.True(result.ExitCode == 73, result.ToString());
        Assert.Contains($"\rleasehold: waiting for {path}: 0.", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("s of 1.8 s, 1st in the queue\u001b[K", result.Stdout, StringComparison.Ordinal);
        // The live line is erased before the final message.
        Assert.Contains($"\r\u001b[Kleasehold: {path}: not granted within 1.8 s", result.Stdout, StringComparison.Ordinal);
    }
}
