using System.Globalization;
using System.Text;

namespace ThumbnailApi.Operations;

/// <summary>
/// Text from a request (path, method, file name...) made safe for one log line: characters that
/// break a line or reorder what a reader sees are written as escapes, so a URL holding
/// <c>%0D%0A</c> cannot forge a log line and a right-to-left override cannot disguise one.
/// <c>\r</c>, <c>\n</c> and <c>\t</c> become <c>\\r</c>, <c>\\n</c>, <c>\\t</c>; the others <c>\\uXXXX</c>.
/// </summary>
public static class LogText
{
    /// <summary>The text with every unsafe character escaped; the same string when there is none (no allocation).</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        var first = text.AsSpan().IndexOfAny(Unsafe);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16).Append(text, 0, first);
        foreach (var c in text.AsSpan(first))
        {
            if (!Unsafe.Contains(c))
            {
                escaped.Append(c);
                continue;
            }

            escaped.Append(c switch
            {
                '\r' => @"\r",
                '\n' => @"\n",
                '\t' => @"\t",
                _ => string.Create(CultureInfo.InvariantCulture, $@"\u{(int)c:X4}"),
            });
        }

        return escaped.ToString();
    }

    /// <summary>
    /// C0 controls, DEL, C1 controls (NEL U+0085 breaks lines too), the line and paragraph
    /// separators, and the bidirectional marks, embeddings, overrides and isolates.
    /// </summary>
    private static readonly System.Buffers.SearchValues<char> Unsafe = System.Buffers.SearchValues.Create(
        [.. Range('\u0000', '\u001F'), .. Range('\u007F', '\u009F'), '\u061C', '\u200E', '\u200F',
         '\u2028', '\u2029', .. Range('\u202A', '\u202E'), .. Range('\u2066', '\u2069')]);

    private static IEnumerable<char> Range(char first, char last) =>
        Enumerable.Range(first, last - first + 1).Select(code => (char)code);
}
