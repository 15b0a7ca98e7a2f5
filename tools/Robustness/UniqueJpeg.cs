using System.Text;

namespace ThumbnailApi.Robustness;

/// <summary>
/// Copies of one JPEG that differ only in a comment segment (FF FE) right after SOI: the same pixels
/// and the same work for the service, but never the same bytes, so no upload reuses another's thumbnail.
/// </summary>
public static class UniqueJpeg
{
    public static byte[] Of(byte[] jpeg, string tag)
    {
        var text = Encoding.ASCII.GetBytes($"{tag} {Guid.NewGuid():N}");
        var output = new byte[jpeg.Length + 4 + text.Length];
        jpeg.AsSpan(0, 2).CopyTo(output);
        output[2] = 0xFF;
        output[3] = 0xFE;
        output[4] = (byte)((text.Length + 2) >> 8);
        output[5] = (byte)(text.Length + 2);
        text.CopyTo(output, 6);
        jpeg.AsSpan(2).CopyTo(output.AsSpan(6 + text.Length));
        return output;
    }
}
