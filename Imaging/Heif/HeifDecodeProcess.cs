using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ThumbnailApi.Imaging.Heif;

/// <summary>
/// Runs <see cref="HeifDecodeChild"/> (this program with <c>--decode-heif</c>) for one picture and
/// hands its rows over as they arrive: the file goes in on standard input, RGBA rows come out on
/// standard output. Cancelling (the deadline) kills the child. See <see cref="HeifDecodeChild"/> for why.
/// </summary>
internal sealed unsafe class HeifDecodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly Stream _rows;
    private readonly Task<string> _errors;
    private readonly Task _feeding;
    private readonly CancellationTokenRegistration _killOnCancel;
    private readonly ImageFormat _format;

    private HeifDecodeProcess(Process process, EncodedInput input, ImageFormat format, CancellationToken cancellation)
    {
        _process = process;
        _format = format;
        _rows = process.StandardOutput.BaseStream;
        _errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        _feeding = Task.Run(() => Feed(process.StandardInput.BaseStream, input));
        _killOnCancel = cancellation.Register(() => Kill(process));
    }

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>Starts the child for <paramref name="item"/> (0: the primary picture, else a stored thumbnail's id) and reads the picture's size.</summary>
    public static HeifDecodeProcess Start(EncodedInput input, ImageFormat format, uint item, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // glibc fills every block it hands out with a fixed byte (and freed ones with another): what
        // the decoder never writes is then that pattern, not whatever the process held before.
        start.Environment["MALLOC_PERTURB_"] = "85";
        var (program, arguments) = ThisProgram();
        start.FileName = program;
        foreach (var argument in arguments.Append(HeifDecodeChild.Flag).Append(item.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var child = new HeifDecodeProcess(process, input, format, cancellation);
        try
        {
            Span<byte> header = stackalloc byte[12];
            if (!child.ReadExactly(header) || !header[..4].SequenceEqual(HeifDecodeChild.Magic))
            {
                cancellation.ThrowIfCancellationRequested();
                throw child.Failure();
            }

            child.Width = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
            child.Height = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>Reads the next row (4 × <see cref="Width"/> bytes); throws the child's failure when it ends early.</summary>
    public void ReadRow(Span<byte> row, CancellationToken cancellation)
    {
        if (!ReadExactly(row))
        {
            cancellation.ThrowIfCancellationRequested();
            throw Failure();
        }
    }

    /// <summary>After the last row: the child must end well.</summary>
    public void Finish(CancellationToken cancellation)
    {
        _process.WaitForExit();
        cancellation.ThrowIfCancellationRequested();
        if (_process.ExitCode != 0)
        {
            throw Failure();
        }
    }

    private bool ReadExactly(Span<byte> buffer)
    {
        try
        {
            return _rows.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The child's own report (libheif's code and message), or that it stopped without one (a crash).</summary>
    private ImageRejectedException Failure()
    {
        _process.WaitForExit();
        var report = _errors.Result.Trim();
        if (_process.ExitCode == HeifDecodeChild.DecodeFailed && report.Split('|', 2) is [var code, var message] && int.TryParse(code, out var number))
        {
            return HeifNative.Error.RejectionFor(number, message, _format, "picture cannot be decoded");
        }

        return ImageRejectedException.Corrupt($"the {_format.CommonName()} decoder stopped on this file (exit code {_process.ExitCode})");
    }

    private static void Feed(Stream stdin, EncodedInput input)
    {
        try
        {
            using (stdin)
            {
                stdin.Write(new ReadOnlySpan<byte>(input.Pointer, (int)input.Length));
            }
        }
        catch (IOException)
        {
            // The child stopped reading (it failed or was killed): its exit code says what happened.
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>
    /// How to run this program again: through the app host it was started with, or as
    /// <c>dotnet ThumbnailApi.dll</c> (also when it is hosted by something else, such as a test runner).
    /// </summary>
    private static (string Program, string[] Arguments) ThisProgram()
    {
        var assembly = typeof(HeifDecodeChild).Assembly.Location;
        var current = Environment.ProcessPath ?? "";
        var name = Path.GetFileNameWithoutExtension(current);
        if (name == Path.GetFileNameWithoutExtension(assembly))
        {
            return (current, []);
        }

        if (name == "dotnet")
        {
            return (current, [assembly]);
        }

        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path)
            ? path
            : Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));
        return (host, [assembly]);
    }

    public void Dispose()
    {
        _killOnCancel.Dispose();
        if (!_process.HasExited)
        {
            Kill(_process);
        }

        _process.WaitForExit();
        try
        {
            _feeding.Wait();
        }
        catch (AggregateException)
        {
        }

        _process.Dispose();
    }
}
