using System.Runtime.InteropServices;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// The encoded file as one block of native memory that the decoders read directly, read once from
/// the stream (for an upload file: one read straight into this memory). Skia
/// decodes it from an <see cref="SKData"/> over that memory, so no managed callback runs inside
/// native decoding (an exception there would end the process) and no read goes through a stream
/// (about a fifth of a big JPEG's decode time); the marker walkers and LibTiff.NET read it through
/// an <see cref="UnmanagedMemoryStream"/>. The file is not memory-mapped on purpose: a mapped file
/// that shrinks or fails to read under the decoder (another program, a failing disk) kills the
/// process with SIGBUS, where a read only fails this task.
/// </summary>
internal sealed unsafe class EncodedInput : IDisposable
{
    private bool _disposed;

    private readonly NativeBlocks.Block _block;

    private EncodedInput(NativeBlocks.Block block, long length)
    {
        _block = block;
        Pointer = block.Pointer;
        Length = length;
    }

    public byte* Pointer { get; }

    public long Length { get; }

    public ReadOnlySpan<byte> Head(int count) => new(Pointer, (int)Math.Min(count, Length));

    /// <summary>Takes the whole of <paramref name="input"/> from its start. The caller still owns the stream.</summary>
    public static EncodedInput From(Stream input)
    {
        if (input.Length > int.MaxValue)
        {
            throw new ImageRejectedException(Rejection.ImageTooLarge, "The file is larger than 2 GB.");
        }

        input.Position = 0;
        var length = input.Length;
        var block = NativeBlocks.Shared.Rent(length);
        try
        {
            input.ReadExactly(new Span<byte>(block.Pointer, (int)length));
            return new EncodedInput(block, length);
        }
        catch (EndOfStreamException)
        {
            NativeBlocks.Shared.Return(block);
            throw ImageRejectedException.Corrupt("the file is shorter than its recorded length");
        }
        catch
        {
            NativeBlocks.Shared.Return(block);
            throw;
        }
    }

    /// <summary>A new stream over the bytes (no copy); dispose it before this.</summary>
    public Stream OpenStream() => new UnmanagedMemoryStream(Pointer, Length);

    /// <summary>The bytes as Skia data (no copy); it must not outlive this.</summary>
    public SKData ToSkData() => SKData.Create((IntPtr)Pointer, (int)Length);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NativeBlocks.Shared.Return(_block);
    }
}
