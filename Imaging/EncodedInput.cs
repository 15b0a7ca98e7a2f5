using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace ThumbnailApi.Imaging;

/// <summary>
/// The encoded file as one block of memory that the decoders read directly: a file is mapped
/// (no copy, pages come from the page cache), any other stream is copied once into native memory.
/// Skia decodes it from an <see cref="SKData"/> over that memory, so no managed callback runs inside
/// native decoding (an exception there would end the process) and no read goes through a stream
/// (about a fifth of a big JPEG's decode time); the marker walkers and LibTiff.NET read it through
/// an <see cref="UnmanagedMemoryStream"/>.
/// </summary>
internal sealed unsafe class EncodedInput : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _copy;
    private bool _disposed;

    private EncodedInput(byte* pointer, long length, MemoryMappedFile? map = null, MemoryMappedViewAccessor? view = null, byte* copy = null)
    {
        Pointer = pointer;
        Length = length;
        _map = map;
        _view = view;
        _copy = copy;
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

        return input is FileStream { Length: > 0 } file ? Map(file) : Copy(input);
    }

    /// <summary>A new stream over the bytes (no copy); dispose it before this.</summary>
    public Stream OpenStream() => new UnmanagedMemoryStream(Pointer, Length);

    /// <summary>The bytes as Skia data (no copy); it must not outlive this.</summary>
    public SKData ToSkData() => SKData.Create((IntPtr)Pointer, (int)Length);

    private static EncodedInput Map(FileStream file)
    {
        var map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        return new EncodedInput(pointer + view.PointerOffset, file.Length, map, view);
    }

    private static EncodedInput Copy(Stream input)
    {
        input.Position = 0;
        var length = input.Length;
        var copy = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, length));
        try
        {
            input.ReadExactly(new Span<byte>(copy, (int)length));
            return new EncodedInput(copy, length, copy: copy);
        }
        catch
        {
            NativeMemory.Free(copy);
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map!.Dispose();
        }

        if (_copy is not null)
        {
            NativeMemory.Free(_copy);
        }
    }
}
