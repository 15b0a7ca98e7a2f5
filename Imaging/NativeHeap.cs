using System.Runtime.InteropServices;

namespace ThumbnailApi.Imaging;

/// <summary>
/// Keeps big native blocks (uploads read for decoding, Skia's pixel buffers) out of glibc's heap.
/// glibc serves a block of 128 KB or more with its own mmap and gives it back to the system when
/// it is freed, but after the first such free it raises that threshold to the freed size, so
/// later multi-megabyte blocks come from the heap, which keeps their pages: a 50-upload run of
/// 24 MP JPEGs peaked at ~215 MB of RSS instead of ~170 MB. Fixing the threshold turns that off.
/// </summary>
internal static partial class NativeHeap
{
    private const int MmapThresholdOption = -3; // M_MMAP_THRESHOLD in glibc's malloc.h
    private const int MmapThresholdBytes = 128 * 1024; // glibc's own starting value

    /// <summary>Fixes glibc's mmap threshold; elsewhere (other systems, other C libraries) does nothing.</summary>
    public static void ReturnLargeBlocksPromptly()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = SetMallocOption(MmapThresholdOption, MmapThresholdBytes);
        }
        catch (Exception problem) when (problem is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no such tuning): its allocator is left as it is.
        }
    }

    /// <summary>
    /// Asks glibc to give the free pages of its heap back to the system (malloc_trim); elsewhere does
    /// nothing. For when the service goes idle after a spike.
    /// </summary>
    public static void ReturnFreePages()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = TrimHeap(0);
        }
        catch (Exception problem) when (problem is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: nothing to ask.
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int TrimHeap(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int SetMallocOption(int option, int value);
}
