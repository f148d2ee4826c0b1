using Leasehold.Server;
using Leasehold.Server.Pools;
using Leasehold.Storage;

if (args is ["validate"])
{
    // Without a file this would fall through and start a server with a stray argument.
    Console.Error.WriteLine("usage: Leasehold.Server validate FILE");
    return 2;
}

if (args is ["validate", var file, ..])
{
    // Checks a py-lockable resources file with py-lockable's rules and messages.
    if (ResourceFile.TryLoad(file, out var resources, out var error))
    {
        Console.WriteLine($"{file}: {resources.Count} resources, valid");
        return 0;
    }
    Console.Error.WriteLine(error);
    return 1;
}

LeaseholdApp.PreferInlineSocketCompletions();
try
{
    return await LeaseholdApp.RunAsync(LeaseholdApp.Build(args));
}
catch (Exception ex) when (ex is CorruptDataException or IOException or UnauthorizedAccessException or InvalidDataException)
{
    // Start-up refused: say why in one line (the file and offset for damage), no stack trace.
    Console.Error.WriteLine(LeaseholdApp.DescribeRefusal(ex));
    return 2;
}
