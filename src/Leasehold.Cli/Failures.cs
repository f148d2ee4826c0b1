using System.Text.Encodings.Web;
using System.Text.Json;
using Leasehold.Client;
using Leasehold.Protocol;

namespace Leasehold.Cli;

/// <summary>Turns what went wrong into one line on standard error and the documented exit code.</summary>
internal static class Failures
{
    /// <summary>Runs a command's body, mapping the failures every command shares to their exit codes.</summary>
    public static async Task<int> GuardAsync(bool json, string server, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliException ex)
        {
            return Report(json, ex.ExitCode, ex.Code, ex.Message);
        }
        catch (LeaseholdUnavailableException ex)
        {
            return Report(json, ExitCodes.Unavailable, ex.Code, $"cannot reach {Where(server)}: {Transport(ex.InnerException)}");
        }
        catch (HttpRequestException ex)
        {
            return Report(json, ExitCodes.Unavailable, LeaseholdUnavailableException.UnreachableCode, $"cannot reach {Where(server)}: {Transport(ex)}");
        }
        catch (LeaseholdTimeoutException ex)
        {
            return Report(json, ExitCodes.Locked, ErrorCodes.Locked, ex.Message);
        }
        catch (LeaseholdNoMatchException ex)
        {
            return Report(json, ExitCodes.NoMatch, ErrorCodes.NoMatch, ex.Message);
        }
        catch (LeaseholdException ex)
        {
            return Report(json, ExitCodes.Error, ex.Code, ex.Message);
        }
    }

    /// <summary>The server as <c>--server</c> gave it, or the list of them.</summary>
    private static string Where(string server)
        => server.Contains(',', StringComparison.Ordinal)
            ? "any of the servers " + string.Join(", ", server.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            : "the server at " + server;

    /// <summary>
    /// Runs the body of a command that works on local files only (<c>certs</c>, <c>admin keys</c>): usage errors
    /// and file errors become their line and exit code, as in <see cref="GuardAsync"/>.
    /// </summary>
    public static int GuardLocal(string code, Action body)
    {
        try
        {
            body();
            return ExitCodes.Ok;
        }
        catch (CliException ex)
        {
            return Report(false, ex.ExitCode, ex.Code, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return Report(false, ExitCodes.Error, code, ex.Message);
        }
    }

    /// <summary>The transport's reason; for a refused certificate, the TLS reason and what to check.</summary>
    private static string? Transport(Exception? ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is System.Security.Authentication.AuthenticationException)
            {
                return $"TLS handshake failed: {e.Message} (is the server's authority given with --ca-file, and the host in --server one of its certificate's names?)";
            }
        }
        return ex?.Message;
    }

    /// <summary>Writes the message (plain, or a JSON object with <paramref name="code"/>) and returns <paramref name="exitCode"/>.</summary>
    public static int Report(bool json, int exitCode, string code, string message)
    {
        if (json)
        {
            Console.Error.WriteLine(Object(writer =>
            {
                writer.WriteString("error", code);
                writer.WriteNumber("exitCode", exitCode);
                writer.WriteString("message", message);
            }));
        }
        else
        {
            Console.Error.WriteLine($"leasehold: {message}");
        }
        return exitCode;
    }

    /// <summary>One JSON object on one line.</summary>
    public static string Object(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
