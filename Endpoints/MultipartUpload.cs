using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using ThumbnailApi.Imaging;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Endpoints;

/// <summary>What an upload request carried: the image (already on disk) and the small text fields.</summary>
public sealed record UploadForm(string FileName, long Bytes, ImageFormat Format, IReadOnlyDictionary<string, string> Fields);

/// <summary>
/// Reads a multipart/form-data upload as a stream: the first part named <c>image</c> goes straight
/// to disk (never buffered whole in memory), its magic bytes are checked before the rest is read,
/// and the size limit is enforced while reading. Later <c>image</c> parts are ignored.
/// </summary>
public static class MultipartUpload
{
    public const string ImageField = "image";
    /// <summary>Parts a form may have: the image and its options, with room to spare.</summary>
    private const int MaxParts = 32;
    private const int MaxFieldLength = 1024;
    private const int MaxFileNameLength = 255;

    /// <summary>Reads the form from <paramref name="body"/> (the request's body, perhaps wrapped); on any problem returns the error to answer with instead.</summary>
    public static async Task<(UploadForm? Form, JsonHttpResult<ApiError>? Error)> ReadAsync(
        HttpRequest request, Stream body, Func<Stream> createFile, long maxBytes, CancellationToken cancellation)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ApiErrors.MissingImage("Send the image as multipart/form-data with a file part named 'image'."));
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 200)
        {
            return (null, ApiErrors.MissingImage("The multipart/form-data request has no valid boundary."));
        }

        try
        {
            return await ReadSectionsAsync(new MultipartReader(boundary, body), createFile, maxBytes, cancellation);
        }
        catch (BadHttpRequestException problem) when (problem.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, ApiErrors.FileTooLarge(maxBytes));
        }
        catch (Exception problem) when (problem is BadHttpRequestException or InvalidDataException or IOException)
        {
            return (null, ApiErrors.MissingImage("The upload was cut off or is not valid multipart/form-data. Send it again."));
        }
    }

    private static async Task<(UploadForm?, JsonHttpResult<ApiError>?)> ReadSectionsAsync(
        MultipartReader reader, Func<Stream> createFile, long maxBytes, CancellationToken cancellation)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        (string Name, long Bytes, ImageFormat Format)? image = null;
        var sections = 0;
        while (await reader.ReadNextSectionAsync(cancellation) is { } section)
        {
            // Refused as soon as the part after the last allowed one begins: the rest of the body is not read.
            if (++sections > MaxParts)
            {
                return (null, ApiErrors.MissingImage(
                    $"The form has more than {MaxParts} parts; send at most {MaxParts} (the image and its options)."));
            }

            // A part that does not say what it is cannot be skipped silently: it may be the image.
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                return (null, ApiErrors.MissingImage(
                    $"Part {sections} of the form has no Content-Disposition header that can be read. Send each part with "
                    + "'Content-Disposition: form-data; name=\"...\"', and the image's file name in quotes: filename=\"photo.jpg\"."));
            }

            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (name == ImageField)
            {
                if (image is not null)
                {
                    continue; // documented: the first image part wins
                }

                var isFile = disposition.FileName.HasValue || disposition.FileNameStar.HasValue;
                var (stored, error) = await StoreImageAsync(section.Body, isFile, createFile, maxBytes, cancellation);
                if (error is not null)
                {
                    return (null, error);
                }

                image = (CleanFileName(disposition), stored.Bytes, stored.Format);
            }
            else if (!fields.ContainsKey(name))
            {
                fields[name] = await ReadFieldAsync(section.Body, cancellation);
            }
        }

        return image is { } found
            ? (new UploadForm(found.Name, found.Bytes, found.Format, fields), null)
            : (null, ApiErrors.MissingImage("No file part named 'image' was sent. Send the image as form-data with the key 'image'."));
    }

    /// <summary>
    /// Streams the image part to disk. <paramref name="isFile"/>: the part named a file name. A part
    /// without one is still taken when its bytes are an image (some clients name no file), but when
    /// they are not, the client sent text where a file belongs (<c>-F image=hello</c>), and is told so.
    /// </summary>
    private static async Task<((long Bytes, ImageFormat Format), JsonHttpResult<ApiError>?)> StoreImageAsync(
        Stream body, bool isFile, Func<Stream> createFile, long maxBytes, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            var head = await body.ReadAtLeastAsync(buffer.AsMemory(0, FormatSniffer.BytesNeeded), FormatSniffer.BytesNeeded, false, cancellation);
            if (head == 0)
            {
                return (default, ApiErrors.MissingImage("The image file is empty."));
            }

            var sniffed = FormatSniffer.Sniff(buffer.AsSpan(0, head));
            if (sniffed is null && !isFile)
            {
                return (default, ApiErrors.MissingImage(
                    "The form field 'image' is text, not a file. Send the image itself as a file part, "
                    + "with curl: -F image=@photo.jpg (the @ makes curl send the file's contents)."));
            }

            if (sniffed is not { } format)
            {
                // Decided from the first bytes: the rest of a disguised file is never read.
                return (default, ApiErrors.UnsupportedFormat(
                    "The file is not a PNG, JPEG, GIF, BMP, TIFF, WebP, HEIC or AVIF image (whatever its name says)."));
            }

            await using var file = Storage(createFile);
            long total = head;
            await WriteAsync(file, buffer.AsMemory(0, head), cancellation);
            int read;
            while ((read = await body.ReadAsync(buffer, cancellation)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    return (default, ApiErrors.FileTooLarge(maxBytes));
                }

                await WriteAsync(file, buffer.AsMemory(0, read), cancellation);
            }

            return ((total, format), null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Failures of the upload file (disk full, folder gone) are the service's, not the request's:
    /// they leave as <see cref="StorageUnavailableException"/>, not as the IOException of a broken body.
    /// </summary>
    private static Stream Storage(Func<Stream> createFile)
    {
        try
        {
            return createFile();
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            throw new StorageUnavailableException(problem);
        }
    }

    private static async ValueTask WriteAsync(Stream file, ReadOnlyMemory<byte> bytes, CancellationToken cancellation)
    {
        try
        {
            await file.WriteAsync(bytes, cancellation);
        }
        catch (Exception problem) when (StorageUnavailableException.Matches(problem))
        {
            throw new StorageUnavailableException(problem);
        }
    }

    private static async Task<string> ReadFieldAsync(Stream body, CancellationToken cancellation)
    {
        var buffer = new char[MaxFieldLength];
        using var text = new StreamReader(body, Encoding.UTF8, leaveOpen: true);
        var length = await text.ReadBlockAsync(buffer, cancellation);
        return new string(buffer, 0, length);
    }

    /// <summary>
    /// The name shown back to the client: the last path segment, without control characters and
    /// without characters that are invisible or reorder the text shown (<see cref="DisplayedText"/>),
    /// at most 255 characters. It is stored as data only and never becomes part of a file path.
    /// </summary>
    public static string CleanFileName(ContentDispositionHeaderValue disposition)
    {
        // A backslash is a path separator (old browsers send C:\photos\x.jpg), except in an escaped quote.
        var raw = (HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value
                   ?? HeaderUtilities.RemoveQuotes(disposition.FileName).Value
                   ?? "").Replace("\\\"", "\"", StringComparison.Ordinal);
        var lastSegment = raw[(raw.LastIndexOfAny(['/', '\\']) + 1)..];
        var clean = DisplayedText.WithoutHiddenCharacters(lastSegment).Trim();
        if (clean.Length > MaxFileNameLength)
        {
            var cut = MaxFileNameLength;
            if (char.IsHighSurrogate(clean[cut - 1]))
            {
                cut--;
            }

            clean = clean[..cut];
        }

        return clean is "" or "." or ".." ? "image" : clean;
    }
}
