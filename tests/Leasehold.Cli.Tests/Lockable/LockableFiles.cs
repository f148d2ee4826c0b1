namespace Leasehold.Cli.Tests.Lockable;

/// <summary>Resource lists for py-lockable mode, on this machine's hostname (py-lockable's default requirement).</summary>
internal static class LockableFiles
{
    /// <summary>What <c>socket.gethostname()</c> (and so <c>leasehold run</c>'s default <c>--hostname</c>) gives here.</summary>
    public static string Host { get; } = System.Net.Dns.GetHostName();

    /// <summary>
    /// Three resources on this host — <c>on</c> (online, android), <c>ios</c> (online, ios), <c>off</c> (offline,
    /// android) — and <c>away</c> (online, on another host).
    /// </summary>
    public static string Mixed => $$"""
        [
          {"id": "on", "hostname": "{{Host}}", "online": true, "os": "android", "loc": {"rack": 2}, "speed": 1.5, "my-attr": null},
          {"id": "ios", "hostname": "{{Host}}", "online": true, "os": "ios"},
          {"id": "off", "hostname": "{{Host}}", "online": false, "os": "android"},
          {"id": "away", "hostname": "elsewhere", "online": true, "os": "android"}
        ]
        """;

    /// <summary>Writes <paramref name="json"/> to <c>resources.json</c> in <paramref name="dir"/>; returns its path.</summary>
    public static string Write(TempDir dir, string json, string name = "resources.json")
    {
        var file = dir.File(name);
        File.WriteAllText(file, json);
        return file;
    }

    /// <summary>A shell loop that marks it started and waits for <paramref name="go"/>, at most 20 s.</summary>
    public static string HoldUntil(string started, string go)
        => $"echo \"$ID\" > {started}; i=0; while [ ! -e {go} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done";
}
