using ThumbnailApi.Operations;

namespace ThumbnailApi.Tests;

/// <summary>Request text in a log line: line breaks, controls and direction overrides are escaped, the rest kept.</summary>
[TestFixture]
public sealed class LogTextTests
{
    [TestCase("/api/v1/thumbnail_generator/abc\r\ninfo: ThumbnailApi.Fake[1]", @"/api/v1/thumbnail_generator/abc\r\ninfo: ThumbnailApi.Fake[1]")]
    [TestCase("a\tb\0c\u001Bd\u007Fe", @"a\tb\u0000c\u001Bd\u007Fe")]
    [TestCase("next\u0085line\u009Bx", @"next\u0085line\u009Bx")]
    [TestCase("one\u2028two\u2029three", @"one\u2028two\u2029three")]
    [TestCase("\u202Egnp.exe", @"\u202Egnp.exe")]
    [TestCase("\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069\u200E\u200F\u061C", @"\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069\u200E\u200F\u061C")]
    public void Unsafe_characters_are_written_as_escapes(string text, string expected)
    {
        var escaped = LogText.Escape(text);

        Assert.That(escaped, Is.EqualTo(expected));
        Assert.That(escaped.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u202E'), Is.False);
    }

    [TestCase("/api/v1/thumbnail_generator/0f8fad5bd9cb469fa16570867728950e")]
    [TestCase("фото 📷 \U0001F469\u200D\U0001F4BB.jpg")]
    [TestCase(@"C:\photos\x.jpg")]
    public void Plain_text_is_returned_as_it_is(string text)
    {
        Assert.That(LogText.Escape(text), Is.SameAs(text));
    }

    [Test]
    public void No_text_is_an_empty_string()
    {
        Assert.That(LogText.Escape(null), Is.EqualTo(""));
    }
}
