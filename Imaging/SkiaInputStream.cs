using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// The upload as Skia reads it. Skia's codecs call back into managed code for every read, skip and
/// seek; an exception thrown inside such a callback cannot travel through native frames and ends the
/// process. SkiaSharp's own <see cref="SKManagedStream"/> throws there when a damaged header asks it
/// to skip 2 GB or more (found by fuzzing: the service died). This stream answers every request
/// within the file instead: reads are cut at the end, skips and seeks are clamped, and an I/O error
/// reads as the end of the file, so the codec reports incomplete input, which becomes corrupt_image.
/// </summary>
internal sealed class SkiaInputStream(Stream input) : SKAbstractManagedStream(true)
{
    private const int ChunkBytes = 1 << 20;

    protected override IntPtr OnRead(IntPtr buffer, IntPtr size) => Guard(() => (IntPtr)ReadOrSkip(buffer, (ulong)(nuint)size), IntPtr.Zero);

    protected override IntPtr OnPeek(IntPtr buffer, IntPtr size) => Guard(() =>
    {
        var position = input.Position;
        var read = ReadOrSkip(buffer, (ulong)(nuint)size);
        input.Position = position;
        return (IntPtr)read;
    }, IntPtr.Zero);

    protected override bool OnIsAtEnd() => Guard(() => input.Position >= input.Length, true);

    protected override bool OnHasPosition() => true;

    protected override bool OnHasLength() => true;

    protected override bool OnRewind() => Guard(() => input.Seek(0, SeekOrigin.Begin) == 0, false);

    protected override IntPtr OnGetPosition() => Guard(() => (IntPtr)input.Position, IntPtr.Zero);

    protected override IntPtr OnGetLength() => Guard(() => (IntPtr)input.Length, IntPtr.Zero);

    protected override bool OnSeek(IntPtr position) => Guard(() => MoveTo((long)position), false);

    protected override bool OnMove(int offset) => Guard(() => MoveTo(input.Position + offset), false);

    // Skia asks for copies only to decode in several places at once, which this service never does.
    protected override IntPtr OnCreateNew() => IntPtr.Zero;

    protected override IntPtr OnDuplicate() => IntPtr.Zero;

    protected override IntPtr OnFork() => IntPtr.Zero;

    /// <summary>Moves within the file: a position before the start or past the end is clamped to it.</summary>
    private bool MoveTo(long position)
    {
        input.Position = Math.Clamp(position, 0, input.Length);
        return true;
    }

    /// <summary>Reads into <paramref name="buffer"/> (or skips, when it is null) at most what is left of the file.</summary>
    private unsafe long ReadOrSkip(IntPtr buffer, ulong size)
    {
        var wanted = (long)Math.Min(size, (ulong)Math.Max(0, input.Length - input.Position));
        if (buffer == IntPtr.Zero)
        {
            input.Position += wanted;
            return wanted;
        }

        long done = 0;
        while (done < wanted)
        {
            var read = input.Read(new Span<byte>((byte*)buffer + done, (int)Math.Min(wanted - done, ChunkBytes)));
            if (read == 0)
            {
                break;
            }

            done += read;
        }

        return done;
    }

    /// <summary>A disk error under the file reads as its end: the codec then reports incomplete input.</summary>
    private static T Guard<T>(Func<T> call, T atError)
    {
        try
        {
            return call();
        }
        catch (IOException)
        {
            return atError;
        }
    }
}
