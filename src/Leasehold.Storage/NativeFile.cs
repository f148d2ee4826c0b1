using System.Runtime.InteropServices;

namespace Leasehold.Storage;

/// <summary>
/// fsync of a directory, so that a created, renamed or deleted file survives a power cut (Linux and macOS; on
/// Windows there is nothing to do), and allocating a file's space together with its length (<c>fallocate</c>, Linux
/// only: .NET's own preallocation keeps the length). .NET has no API for either.
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

    /// <summary>
    /// Allocates the file's blocks up to <paramref name="length"/> and extends it. Returns 0 when it did, -1 where it is
    /// not supported (not Linux), and otherwise the error number of the failure (a disk too full, a file system without it).
    /// </summary>
    public static int Preallocate(Microsoft.Win32.SafeHandles.SafeFileHandle file, long length)
    {
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }
        return Fallocate(file, 0, 0, length) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(Microsoft.Win32.SafeHandles.SafeFileHandle fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
