using System.Text.Json;

namespace Leasehold.Server.Tests.Security;

/// <summary>
/// CI does not build the container image, so its entrypoint's arguments are checked here: on every address
/// they are refused without security (protected mode), and accepted with the documented <c>--open</c>.
/// </summary>
public class ContainerEntrypointTests
{
    private static string[] EntrypointArgs(string dataDir)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Leasehold.slnx")))
        {
            dir = dir.Parent;
        }
        Assert.NotNull(dir);
        var line = File.ReadAllLines(Path.Combine(dir.FullName, "deploy", "Dockerfile")).Single(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal));
        var entrypoint = JsonSerializer.Deserialize<string[]>(line["ENTRYPOINT ".Length..])!;
        // The server binary first; the data directory is the test's own.
        var args = entrypoint.Skip(1).ToArray();
        var i = Array.IndexOf(args, "--data-dir");
        Assert.True(i >= 0);
        args[i + 1] = dataDir;
        return args;
    }

    [Fact]
    public async Task The_image_refuses_to_run_open_on_every_address_unless_told_open()
    {
        var dataDir = Directory.CreateTempSubdirectory("leasehold-entrypoint-").FullName;
        try
        {
            var args = EntrypointArgs(dataDir);
            Assert.Contains("http://0.0.0.0:8765", args);
            var ex = Assert.Throws<InvalidDataException>(() => LeaseholdApp.Build([.. args, "--Leasehold:Durability=memory"]));
            Assert.Contains("--open", ex.Message, StringComparison.Ordinal);
            await using var open = LeaseholdApp.Build([.. args, "--Leasehold:Durability=memory", "--open"]);
            Assert.NotNull(open);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
