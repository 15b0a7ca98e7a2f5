using System.Globalization;
using System.Text;

namespace ThumbnailApi.Endpoints;

/// <summary>
/// Text a client sent that is shown back to people (the uploaded file's name): what they see must
/// be what it is. <c>"\u202Egnp.exe"</c> shows as <c>exe.png</c>, and invisible characters make
/// two names that look the same differ, or hide text in a name.
/// </summary>
public static class DisplayedText
{
    private const int ZeroWidthNonJoiner = 0x200C;
    private const int ZeroWidthJoiner = 0x200D;

    /// <summary>
    /// Removes control characters, line and paragraph separators, and every invisible format
    /// character (Unicode category Cf): the bidirectional marks, embeddings, overrides and isolates
    /// (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069), zero-width space, word joiner,
    /// byte-order mark, soft hyphen, tag characters (U+E0000 block) and the rest; also the Hangul
    /// fillers and the combining grapheme joiner, which are letters or marks that show nothing.
    /// Kept: the zero-width joiner and non-joiner between two non-ASCII letters, marks or symbols,
    /// where they do visible work (👩‍💻 is one emoji through U+200D; Persian and Indic words need
    /// U+200C/U+200D to be spelt right); anywhere else they are dropped too.
    /// </summary>
    public static string WithoutHiddenCharacters(string text)
    {
        var runes = text.EnumerateRunes().ToArray();
        var kept = new StringBuilder(text.Length);
        Rune? previous = null;
        for (var i = 0; i < runes.Length; i++)
        {
            var rune = runes[i];
            if (rune.Value is ZeroWidthJoiner or ZeroWidthNonJoiner)
            {
                if (previous is { } before && Joins(before) && i + 1 < runes.Length && Joins(runes[i + 1]))
                {
                    kept.Append(rune.ToString());
                    previous = rune;
                }

                continue;
            }

            if (IsHidden(rune))
            {
                continue;
            }

            kept.Append(rune.ToString());
            previous = rune;
        }

        return kept.ToString();
    }

    private static bool IsHidden(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        || rune.Value is 0x034F // combining grapheme joiner
            or 0x115F or 0x1160 or 0x3164 or 0xFFA0 // Hangul fillers: letters that show as nothing
            or 0x17B4 or 0x17B5; // Khmer inherent vowels, invisible

    /// <summary>A character a joiner may sit next to: a non-ASCII letter, mark or symbol (emoji, modifiers).</summary>
    private static bool Joins(Rune rune) =>
        rune.Value > 0x7F && !IsHidden(rune) && Rune.GetUnicodeCategory(rune) is
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol;
}
