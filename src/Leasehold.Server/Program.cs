using Leasehold.Server;
using Leasehold.Storage;

try
{
    LeaseholdApp.Build(args).Run();
    return 0;
}
catch (Exception ex) when (ex is CorruptDataException or IOException or UnauthorizedAccessException)
{
    // Start-up refused: say why in one line (the file and offset for damage), no stack trace.
    Console.Error.WriteLine($"leasehold: cannot start: {ex.Message}");
    return 2;
}
