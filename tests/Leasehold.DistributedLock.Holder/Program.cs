using Leasehold.Client;
using Leasehold.DistributedLock;

// lock-holder SERVER KIND NAME [SESSION-TTL-SECONDS]
// KIND: lock, read, write, upgradeable, or semaphore:N. Acquires (waiting as long as it takes), prints "held FENCE",
// holds until its standard input closes or says "release", then releases and prints "released". Exit 0, or 2 on bad
// arguments. Killed, it releases nothing: its session expires on the server.
if (args.Length is < 3 or > 4)
{
    Console.Error.WriteLine("usage: lock-holder SERVER KIND NAME [SESSION-TTL-SECONDS]");
    return 2;
}
var options = new LeaseholdClientOptions { Server = new Uri(args[0]), Owner = $"lock-holder {Environment.ProcessId}" };
if (args.Length == 4)
{
    options.SessionTtl = TimeSpan.FromSeconds(double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
}
using var client = new LeaseholdClient(options);
var provider = new LeaseholdDistributedSynchronizationProvider(client);
var name = args[2];
await using LeaseholdDistributedLockHandle handle = args[1] switch
{
    "lock" => await provider.CreateLock(name).AcquireAsync(),
    "read" => await provider.CreateReaderWriterLock(name).AcquireReadLockAsync(),
    "write" => await provider.CreateReaderWriterLock(name).AcquireWriteLockAsync(),
    "upgradeable" => await provider.CreateReaderWriterLock(name).AcquireUpgradeableReadLockAsync(),
    var kind when kind.StartsWith("semaphore:", StringComparison.Ordinal)
        => await provider.CreateSemaphore(name, int.Parse(kind["semaphore:".Length..], System.Globalization.CultureInfo.InvariantCulture)).AcquireAsync(),
    _ => throw new ArgumentException($"unknown kind '{args[1]}'"),
};
Console.WriteLine($"held {handle.Fence}");
while (await Console.In.ReadLineAsync() is { } line && line.Trim() != "release")
{
}
await handle.DisposeAsync();
Console.WriteLine("released");
return 0;
