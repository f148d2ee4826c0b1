using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Leasehold.Server.Tls;

namespace Leasehold.Cli.Commands;

/// <summary>
/// <c>leasehold certs ca</c> and <c>leasehold certs issue</c>: a private certificate authority and the server and
/// client certificates it signs, as PEM files, with no tool but this one (docs/tls.md).
/// </summary>
internal static class CertsCommand
{
    private const string AuthorityFile = "ca";

    public static Command Create()
    {
        var command = new Command("certs", "Make a private certificate authority and the server and client certificates it signs (docs/tls.md)");
        command.Add(CreateAuthority());
        command.Add(CreateIssue());
        return command;
    }

    private static Command CreateAuthority()
    {
        var output = Out("The directory to write ca.crt and ca.key (readable by you alone) to; created if missing");
        var name = new Option<string>("--name") { Description = "The authority's name (its subject CN)", HelpName = "NAME", DefaultValueFactory = _ => "Leasehold CA" };
        var days = Days(CertificateMaker.AuthorityValidity);
        var force = Force();
        var command = new Command("ca", "Make a self-signed certificate authority: DIR/ca.crt (give it to clients and to the server) and DIR/ca.key (keep it secret)")
        {
            output, name, days, force,
        };
        command.SetAction(result => Failures.GuardLocal("certs", () =>
        {
            var directory = result.GetValue(output)!;
            using var authority = CertificateMaker.MakeAuthority(result.GetValue(name)!, DateTimeOffset.UtcNow, ValidFor(result.GetValue(days)));
            PemFiles.Write(authority, directory, AuthorityFile, result.GetValue(force));
            Console.Out.WriteLine(Written(authority, directory, AuthorityFile));
        }));
        return command;
    }

    private static Command CreateIssue()
    {
        var authorityDir = new Option<string>("--ca") { Description = "The authority's directory (ca.crt and ca.key, from `leasehold certs ca`)", HelpName = "DIR", Required = true };
        var name = new Option<string>("--name")
        {
            Description = "The certificate's name (subject CN): a server's host name, or a client's principal name; also the files' name",
            HelpName = "NAME",
            Required = true,
        };
        var dns = new Option<string[]>("--dns") { Description = "Another host name the server is reached by, besides NAME (repeatable)", HelpName = "HOST", };
        var ip = new Option<string[]>("--ip") { Description = "An IP address the server is reached by (repeatable)", HelpName = "ADDRESS" };
        var client = new Option<bool>("--client") { Description = "A client certificate (clientAuth), whose NAME the server takes as the caller's name; without it, a server certificate" };
        var output = Out("The directory to write NAME.crt and NAME.key (readable by you alone) to; created if missing");
        var days = Days(CertificateMaker.IssuedValidity);
        var force = Force();
        var command = new Command("issue", "Issue a server certificate (or with --client, a client certificate) signed by the authority: DIR/NAME.crt and DIR/NAME.key")
        {
            authorityDir, name, dns, ip, client, output, days, force,
        };
        command.SetAction(result => Failures.GuardLocal("certs", () =>
        {
            var certName = CheckFileName(result.GetValue(name)!);
            var addresses = (result.GetValue(ip) ?? []).Select(ParseAddress).ToList();
            var hosts = (result.GetValue(dns) ?? []).ToList();
            var isClient = result.GetValue(client);
            if (!isClient)
            {
                // Clients check a server's names, not its CN: the name itself is always one of them.
                if (IPAddress.TryParse(certName, out var address))
                {
                    addresses.Insert(0, address);
                }
                else
                {
                    hosts.Insert(0, certName);
                }
            }
            using var authority = LoadAuthority(result.GetValue(authorityDir)!);
            var now = DateTimeOffset.UtcNow;
            using var issued = CertificateMaker.Issue(authority, certName, hosts, addresses, isClient, now.AddMinutes(-5), now + (ValidFor(result.GetValue(days)) ?? CertificateMaker.IssuedValidity));
            var directory = result.GetValue(output)!;
            PemFiles.Write(issued, directory, certName, result.GetValue(force));
            Console.Out.WriteLine(Written(issued, directory, certName));
        }));
        return command;
    }

    private static Option<string> Out(string description) => new("--out") { Description = description, HelpName = "DIR", Required = true };

    private static Option<int?> Days(TimeSpan standard) => new("--days")
    {
        Description = $"Days of validity [default: {standard.TotalDays.ToString(CultureInfo.InvariantCulture)}; never beyond the authority's]",
        HelpName = "N",
    };

    private static Option<bool> Force() => new("--force") { Description = "Replace existing files (each is replaced whole, so a server watching them never reads half of one)" };

    private static TimeSpan? ValidFor(int? days) => days switch
    {
        null => null,
        < 1 or > 36500 => throw new UsageException($"--days: {days} is not from 1 to 36500"),
        _ => TimeSpan.FromDays(days.Value),
    };

    /// <summary>The name becomes a file name: nothing that would put the files elsewhere, or hide them.</summary>
    private static string CheckFileName(string name)
    {
        if (name.Length == 0 || name.StartsWith('.') || name.IndexOfAny(['/', '\\', '\0']) >= 0 || name.Any(char.IsControl))
        {
            throw new UsageException($"--name: '{name}' cannot be a file name (no '/', no leading '.')");
        }
        return name;
    }

    private static IPAddress ParseAddress(string text)
        => IPAddress.TryParse(text, out var address) ? address : throw new UsageException($"--ip: '{text}' is not an IP address");

    private static X509Certificate2 LoadAuthority(string directory)
    {
        var certFile = PemFiles.CertificatePath(directory, AuthorityFile);
        var keyFile = PemFiles.KeyPath(directory, AuthorityFile);
        if (!File.Exists(certFile) || !File.Exists(keyFile))
        {
            throw new CliException(ExitCodes.Error, "certs", $"--ca: {directory} has no ca.crt and ca.key (make them with `leasehold certs ca --out {directory}`)");
        }
        var authority = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        if (authority.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            authority.Dispose();
            throw new CliException(ExitCodes.Error, "certs", $"--ca: {certFile} is not a certificate authority");
        }
        return authority;
    }

    private static string Written(X509Certificate2 certificate, string directory, string name)
        => $"{PemFiles.CertificatePath(directory, name)} and {PemFiles.KeyPath(directory, name)}: {certificate.Subject}, "
           + $"valid until {certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC";
}
