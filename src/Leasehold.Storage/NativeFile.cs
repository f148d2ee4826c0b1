using System.Runtime.InteropServices;

namespace Leasehold.Storage;

/// <summary>
/// fsync of a directory, so that a created, renamed or deleted file survives a power cut. .NET has no
/// API for it; on Windows there is nothing to do.
/// </summary>
internal static partial class NativeFile
{
    private const int ReadOnly = 0;

    public static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }
        var fd = Open(dir, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {dir} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {dir} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
