using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Leasehold.Protocol;

namespace Leasehold.Cli.Commands;

/// <summary>
/// <c>leasehold lock [selection] --ttl T</c>: acquire and exit, leaving the lease held until its ttl runs out,
/// <c>renew</c> or <c>release</c>. Prints variables a shell can <c>eval</c>.
/// </summary>
internal static class LockCommand
{
    public static Command Create()
    {
        var selection = new SelectionOptions();
        selection.Ttl.Required = true;
        selection.Ttl.Description = "The lease's time to live (required: nothing keeps it alive once leasehold exits; extend it with renew)";
        var server = CommonOptions.Server();
        var json = CommonOptions.Json();
        var command = new Command("lock", "Acquire a lease with a ttl and exit, printing LEASEHOLD_* variables for eval (or the lease as JSON)");
        selection.AddTo(command);
        command.Add(server);
        command.Add(json);
        command.SetAction((result, _) =>
        {
            var asJson = result.GetValue(json);
            return Failures.GuardAsync(asJson, result.GetValue(server)!, async () =>
            {
                var options = selection.Read(result);
                var servers = CommonOptions.ServerUris(result.GetValue(server)!);
                using var client = CommonOptions.Client(result, servers);
                // Deliberately not disposed: disposing the handle would release the lease.
                var lease = await Acquisition.AcquireAsync(client, options, CancellationToken.None);
                Console.Out.Write(asJson
                    ? JsonSerializer.Serialize(lease.Lease, ProtocolJsonContext.Default.LeaseDto) + "\n"
                    : ShellLines(lease.Lease, servers));
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    /// <summary><c>NAME=value</c> lines and an <c>export</c> of them, values quoted for sh.</summary>
    public static string ShellLines(LeaseDto lease, IReadOnlyList<Uri> servers)
    {
        var variables = new (string Name, string Value)[]
        {
            (LeaseEnvironment.LeaseId, lease.Id.ToString(CultureInfo.InvariantCulture)),
            (LeaseEnvironment.Token, lease.Token ?? ""),
            (LeaseEnvironment.Fence, lease.Fence.ToString(CultureInfo.InvariantCulture)),
            (LeaseEnvironment.Paths, string.Join(' ', lease.Paths)),
            (LeaseEnvironment.Server, CommonOptions.ServerText(servers)),
        };
        var text = string.Concat(variables.Select(v => $"{v.Name}={Quote(v.Value)}\n"));
        return text + "export " + string.Join(' ', variables.Select(v => v.Name)) + "\n";
    }

    /// <summary>Single quotes unless the value needs none.</summary>
    public static string Quote(string value)
        => value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '@' or '+' or ',')
            ? value
            : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
