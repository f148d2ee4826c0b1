using System.CommandLine;
using System.Text.Json.Nodes;
using Leasehold.Server.Security;

namespace Leasehold.Cli.Commands.Admin;

/// <summary>
/// <c>leasehold admin keys create|rotate|revoke|list --file FILE</c>: API keys in the server's keys file. Works on
/// the file, on the server's machine, with no server needed: the first admin key cannot come from the server.
/// A key is printed once, on standard output; only its hash is written.
/// </summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var command = new Command("keys", "Create, rotate, revoke and list API keys in the server's keys file (docs/security.md)");
        command.Add(CreateKey());
        command.Add(Rotate());
        command.Add(Revoke());
        command.Add(List());
        return command;
    }

    private static Option<string> FileOption(bool required) => new("--file")
    {
        Description = "The keys file (the server's Leasehold:Security:KeysFile)" + (required ? "" : "; without it the settings entry is printed"),
        HelpName = "FILE",
        Required = required,
    };

    private static Option<string> IdOption(bool required) => new("--id")
    {
        Description = "The key's id: letters, digits, '-' and '.'" + (required ? "" : " (default: the principal and the date)"),
        HelpName = "ID",
        Required = required,
    };

    private static Command CreateKey()
    {
        var principal = new Option<string>("--principal") { Description = "Who the key authenticates", HelpName = "NAME", Required = true };
        var id = IdOption(required: false);
        var roles = new Option<string[]>("--role") { Description = "A role the key gives (repeatable)", HelpName = "ROLE", AllowMultipleArgumentsPerToken = false };
        var expires = Durations.Option("--expires", "The key stops working this long from now (e.g. 90d); default: never");
        var file = FileOption(required: false);
        var command = new Command("create", "Make a new API key; prints the key once") { principal, id, roles, expires, file };
        command.SetAction(result => Failures.GuardLocal("keys", () =>
        {
            var who = result.GetValue(principal)!;
            if (string.IsNullOrWhiteSpace(who))
            {
                throw new UsageException("--principal: a principal name is required");
            }
            var now = DateTimeOffset.UtcNow;
            var keyId = result.GetValue(id) ?? $"{Sanitize(who)}-{now:yyyyMMddHHmmss}";
            CheckId(keyId);
            var key = ApiKeys.Create(keyId);
            var entry = KeysFile.Entry(key, who, result.GetValue(roles) ?? [], now, result.GetValue(expires) is { } ttl ? now + ttl : null);
            if (result.GetValue(file) is { } path)
            {
                var keys = KeysFile.Open(path, mustExist: false);
                if (keys.Find(keyId) is not null)
                {
                    throw new UsageException($"--id: {path} already has a key {keyId} (rotate it, or choose another id)");
                }
                keys.Keys[keyId] = entry;
                keys.Save();
                Console.Error.WriteLine($"leasehold: key {keyId} for {who} added to {path}; the key is shown once, below");
            }
            else
            {
                Console.Error.WriteLine($"leasehold: add this under Leasehold:Security:ApiKeys in the server's settings:");
                Console.Error.WriteLine(new JsonObject { [keyId] = entry }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, TypeInfoResolver = KeysFileJson.Default }));
            }
            Console.Out.WriteLine(key);
        }));
        return command;
    }

    private static Command Rotate()
    {
        var id = IdOption(required: true);
        var file = FileOption(required: true);
        var command = new Command("rotate", "Replace a key's secret, keeping its principal and roles; the old key stops working") { id, file };
        command.SetAction(result => Failures.GuardLocal("keys", () =>
        {
            var keyId = result.GetValue(id)!;
            var path = result.GetValue(file)!;
            var keys = KeysFile.Open(path, mustExist: true);
            var old = keys.Find(keyId) ?? throw new UsageException($"--id: {path} has no key {keyId}");
            var key = ApiKeys.Create(keyId);
            old["Hash"] = ApiKeys.Hash(key);
            old["Created"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            keys.Save();
            Console.Error.WriteLine($"leasehold: key {keyId} rotated in {path}; the new key is shown once, below");
            Console.Out.WriteLine(key);
        }));
        return command;
    }

    private static Command Revoke()
    {
        var id = IdOption(required: true);
        var file = FileOption(required: true);
        var command = new Command("revoke", "Remove a key; it stops working as soon as the server re-reads the file") { id, file };
        command.SetAction(result => Failures.GuardLocal("keys", () =>
        {
            var keyId = result.GetValue(id)!;
            var path = result.GetValue(file)!;
            var keys = KeysFile.Open(path, mustExist: true);
            if (!keys.Keys.Remove(keyId))
            {
                throw new UsageException($"--id: {path} has no key {keyId}");
            }
            keys.Save();
            Console.Out.WriteLine($"key {keyId} revoked");
        }));
        return command;
    }

    private static Command List()
    {
        var file = FileOption(required: true);
        var command = new Command("list", "The keys in the file: id, principal, roles, made, expires (never a key or a hash)") { file };
        command.SetAction(result => Failures.GuardLocal("keys", () =>
        {
            var keys = KeysFile.Open(result.GetValue(file)!, mustExist: true);
            var table = new TableWriter("ID", "PRINCIPAL", "ROLES", "CREATED", "EXPIRES");
            foreach (var (keyId, entry) in keys.Keys)
            {
                table.Add(
                    keyId,
                    entry?["Principal"]?.ToString() ?? "",
                    entry?["Roles"] is JsonArray roles ? string.Join(",", roles.Select(r => r?.ToString())) : "",
                    entry?["Created"]?.ToString() ?? "",
                    entry?["Expires"]?.ToString() ?? "never");
            }
            table.Write(Console.Out);
        }));
        return command;
    }

    private static void CheckId(string id)
    {
        if (!ApiKeys.IsValidId(id))
        {
            throw new UsageException($"--id: '{id}' is not 1 to 64 letters, digits, '-' or '.'");
        }
    }

    private static string Sanitize(string principal)
    {
        var kept = new string([.. principal.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.').Take(40)]);
        return kept.Length == 0 ? "key" : kept;
    }
}
