using System.Diagnostics;

namespace Leasehold.Cli.Tests;

/// <summary><c>run --local DIR</c>: OS file locks between separate processes, no server.</summary>
public sealed class LocalModeTests
{
    private static string[] Holder(TempDir dir, string name, params string[] options)
        => ["run", "--local", dir.File("locks"), "--path", name, .. options, "--",
            "sh", "-c", $"echo \"$LEASEHOLD_FENCE\" > {dir.File("started")}; while [ ! -e {dir.File("go")} ]; do sleep 0.05; done"];

    [Fact]
    public async Task A_second_process_fails_or_waits_while_the_first_holds_and_gets_it_after()
    {
        using var dir = new TempDir();
        using var first = Tool.Start(Holder(dir, "job"));
        Assert.Equal("1", await first.WaitForFileAsync(dir.File("started")));

        var refused = await Tool.RunWithoutServerAsync("run", "--local", dir.File("locks"), "--path", "job", "--", "sh", "-c", "echo never");
        using var patient = Tool.Start(["run", "--local", dir.File("locks"), "--path", "job", "--wait", "15", "--", "sh", "-c", "echo \"fence $LEASEHOLD_FENCE\""]);
        await Task.Delay(300);
        Assert.False(patient.HasExited, patient.Snapshot());
        await File.WriteAllTextAsync(dir.File("go"), "\n");
        var firstResult = await first.WaitAsync();
        var patientResult = await patient.WaitAsync();

        Assert.True(refused.ExitCode == 73, refused.ToString());
        Assert.Empty(refused.Stdout);
        Assert.True(firstResult.ExitCode == 0, firstResult.ToString());
        Assert.True(patientResult.ExitCode == 0, patientResult.ToString());
        Assert.Equal("fence 2\n", patientResult.Stdout);
        Assert.True(File.Exists(dir.File("locks/job.lock")));
    }

    [Fact]
    public async Task The_wait_is_bounded_by_wait()
    {
        using var dir = new TempDir();
        using var first = Tool.Start(Holder(dir, "slow"));
        await first.WaitForFileAsync(dir.File("started"));

        var watch = Stopwatch.StartNew();
        var result = await Tool.RunWithoutServerAsync("run", "--local", dir.File("locks"), "--path", "slow", "--wait", "1", "--", "true");
        var elapsed = watch.Elapsed;
        await File.WriteAllTextAsync(dir.File("go"), "\n");

        Assert.True(result.ExitCode == 73, result.ToString());
        Assert.True(elapsed >= TimeSpan.FromSeconds(0.9), $"gave up after {elapsed}");
        Assert.True((await first.WaitAsync()).ExitCode == 0);
    }

    [Fact]
    public async Task A_SIGKILLed_holders_lock_is_free_at_once()
    {
        using var dir = new TempDir();
        using var holder = Tool.Start(["run", "--local", dir.File("locks"), "--path", "crashy", "--", "sh", "-c",
            $"echo $$ > {dir.File("pid")}; exec sleep 20 >/dev/null 2>&1"]);
        var childPid = await holder.WaitForFileAsync(dir.File("pid"));
        try
        {
            var whileHeld = await Tool.RunWithoutServerAsync("run", "--local", dir.File("locks"), "--path", "crashy", "--", "true");
            Assert.True(whileHeld.ExitCode == 73, whileHeld.ToString());

            holder.KillHard();
            // The kernel drops the flock with the process, and the guard's copy once the guard has killed the
            // command; the command never had one (close-on-exec).
            var after = await Tool.RunWithoutServerAsync("run", "--local", dir.File("locks"), "--path", "crashy", "--wait", "5", "--", "sh", "-c", "echo mine");

            Assert.True(after.ExitCode == 0, after.ToString());
            Assert.Equal("mine\n", after.Stdout);
        }
        finally
        {
            Tool.KillPid(childPid);
        }
    }

    [Fact]
    public async Task The_ttl_stops_the_child_with_SIGTERM_and_exit_75()
    {
        using var dir = new TempDir();
        var result = await Tool.RunWithoutServerAsync("run", "--local", dir.Path, "--path", "limited", "--ttl", "0.5", "--", "sh", "-c",
            $"trap 'echo stopped > {dir.File("stopped")}; exit 0' TERM; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done");

        Assert.True(result.ExitCode == 75, result.ToString());
        Assert.Contains("--ttl of 0.5 s ran out", result.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(dir.File("stopped")));
    }

    [Fact]
    public async Task Shared_holders_coexist_and_keep_an_exclusive_one_out()
    {
        using var dir = new TempDir();
        using var reader = Tool.Start(Holder(dir, "db", "--shared"));
        await reader.WaitForFileAsync(dir.File("started"));

        var secondReader = await Tool.RunWithoutServerAsync("run", "--local", dir.File("locks"), "--path", "db", "--shared", "--", "true");
        var writer = await Tool.RunWithoutServerAsync("run", "--local", dir.File("locks"), "--path", "db", "--", "true");
        await File.WriteAllTextAsync(dir.File("go"), "\n");

        Assert.True(secondReader.ExitCode == 0, secondReader.ToString());
        Assert.True(writer.ExitCode == 73, writer.ToString());
        Assert.True((await reader.WaitAsync()).ExitCode == 0);
    }

    [Fact]
    public async Task The_childs_exit_code_passes_through_and_signals_are_forwarded()
    {
        using var dir = new TempDir();
        var code = await Tool.RunWithoutServerAsync("run", "--local", dir.Path, "--path", "c", "--", "sh", "-c", "exit 9");
        using var signalled = Tool.Start(["run", "--local", dir.Path, "--path", "s", "--", "sh", "-c",
            $"trap 'exit 42' TERM; echo > {dir.File("started")}; while true; do sleep 0.1; done"]);
        await signalled.WaitForFileAsync(dir.File("started"));
        await signalled.SignalAsync("TERM");

        Assert.True(code.ExitCode == 9, code.ToString());
        var result = await signalled.WaitAsync();
        Assert.True(result.ExitCode == 42, result.ToString());
    }
}
