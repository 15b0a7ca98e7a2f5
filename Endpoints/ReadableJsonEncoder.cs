using System.Text.Encodings.Web;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// How every JSON body is escaped: so it reads naturally in a terminal (an apostrophe is <c>'</c>,
/// not <c>\u0027</c>; "é" and "日本" stay as they are), while it stays valid JSON that is safe to
/// drop into a page: <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> are still escaped, so a file name like
/// <c>&lt;img onerror=…&gt;</c> never appears as markup, even to a careless client. Quotes,
/// backslashes and control characters are escaped as JSON requires, and so are U+2028/U+2029 (line
/// breaks to JavaScript). Built on the framework's relaxed encoder, with the markup characters added back.
/// </summary>
public sealed class ReadableJsonEncoder : JavaScriptEncoder
{
    public static readonly ReadableJsonEncoder Instance = new();

    private static readonly JavaScriptEncoder Relaxed = UnsafeRelaxedJsonEscaping;

    private ReadableJsonEncoder()
    {
    }

    public override int MaxOutputCharactersPerInputCharacter => Relaxed.MaxOutputCharactersPerInputCharacter;

    public override bool WillEncode(int unicodeScalar) => IsMarkup(unicodeScalar) || Relaxed.WillEncode(unicodeScalar);

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var relaxed = Relaxed.FindFirstCharacterToEncode(text, textLength);
        var searched = relaxed < 0 ? textLength : relaxed;
        var markup = new ReadOnlySpan<char>(text, searched).IndexOfAny('<', '>', '&');
        return markup >= 0 ? markup : relaxed;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        if (!IsMarkup(unicodeScalar))
        {
            return Relaxed.TryEncodeUnicodeScalar(unicodeScalar, buffer, bufferLength, out numberOfCharactersWritten);
        }

        // The same form the default encoder writes: \u003C, \u003E, \u0026.
        var escaped = $"\\u{unicodeScalar:X4}";
        if (bufferLength < escaped.Length)
        {
            numberOfCharactersWritten = 0;
            return false;
        }

        escaped.AsSpan().CopyTo(new Span<char>(buffer, bufferLength));
        numberOfCharactersWritten = escaped.Length;
        return true;
    }

    private static bool IsMarkup(int unicodeScalar) => unicodeScalar is '<' or '>' or '&';
}
