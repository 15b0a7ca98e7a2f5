using SkiaSharp;
using ThumbnailApi.Imaging;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests.Imaging;

/// <summary>
/// The big native blocks of a decode (the upload's bytes, whole decoded pictures) are kept for the
/// next upload (their pages are already there), within a fixed amount of memory, and all handed back
/// when asked.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed unsafe class NativeBlocksTests
{
    private const long MB = 1024 * 1024;

    [Test]
    public void A_block_handed_back_is_lent_again_for_the_next_file_that_fits_in_it()
    {
        var blocks = new NativeBlocks(64 * MB, 4);
        var first = blocks.Rent(5 * MB + 123);
        first.Pointer[5 * MB] = 42; // the block is real, writable memory
        blocks.Return(first);

        var second = blocks.Rent(5 * MB - 1000);

        Assert.That((nint)second.Pointer, Is.EqualTo((nint)first.Pointer));
        Assert.That(second.Capacity, Is.EqualTo(6 * MB), "capacities are whole megabytes");
        Assert.That(blocks.KeptBytes, Is.Zero, "a lent block is no longer kept");
        blocks.Return(second);
        blocks.Release();
    }

    [Test]
    public void The_smallest_kept_block_that_fits_is_lent_and_a_file_bigger_than_every_kept_block_gets_a_new_one()
    {
        var blocks = new NativeBlocks(64 * MB, 4);
        var small = blocks.Rent(2 * MB);
        var large = blocks.Rent(20 * MB);
        blocks.Return(small);
        blocks.Return(large);

        var lent = blocks.Rent(MB + 1);
        var bigger = blocks.Rent(30 * MB);

        Assert.That((nint)lent.Pointer, Is.EqualTo((nint)small.Pointer));
        Assert.That((nint)bigger.Pointer, Is.Not.EqualTo((nint)large.Pointer));
        Assert.That(blocks.KeptBytes, Is.EqualTo(20 * MB), "the large block is still kept");
        blocks.Return(lent);
        blocks.Return(bigger);
        blocks.Release();
    }

    [Test]
    public void No_more_than_the_limit_is_kept_and_the_largest_blocks_are_the_ones_kept()
    {
        var blocks = new NativeBlocks(64 * MB, 4);
        var rented = new[] { 10, 30, 20, 25 }.Select(size => blocks.Rent(size * MB)).ToList();
        foreach (var block in rented)
        {
            blocks.Return(block);
        }

        Assert.That(blocks.KeptBytes, Is.EqualTo(55 * MB), "30 + 25: adding the 20 MB or the 10 MB block would pass 64 MB");
        Assert.That((nint)blocks.Rent(26 * MB).Pointer, Is.EqualTo((nint)rented[1].Pointer));
        blocks.Release();
    }

    [Test]
    public void No_more_blocks_than_the_limit_are_kept()
    {
        var blocks = new NativeBlocks(64 * MB, 2);
        var rented = Enumerable.Range(1, 4).Select(size => blocks.Rent(size * MB)).ToList();
        foreach (var block in rented)
        {
            blocks.Return(block);
        }

        Assert.That(blocks.KeptBytes, Is.EqualTo(7 * MB), "the 3 MB and 4 MB blocks");
        blocks.Release();
    }

    [Test]
    public void A_block_asked_for_zeroed_is_zero_whether_it_is_new_or_was_kept()
    {
        var blocks = new NativeBlocks(64 * MB, 4);
        var first = blocks.Rent(2 * MB, zeroed: true);
        Assert.That(new ReadOnlySpan<byte>(first.Pointer, (int)(2 * MB)).IndexOfAnyExcept((byte)0), Is.EqualTo(-1), "a new block");
        new Span<byte>(first.Pointer, (int)(2 * MB)).Fill(0xAB);
        blocks.Return(first);

        var again = blocks.Rent(2 * MB - 7, zeroed: true);

        Assert.That((nint)again.Pointer, Is.EqualTo((nint)first.Pointer), "the kept block");
        Assert.That(new ReadOnlySpan<byte>(again.Pointer, (int)(2 * MB - 7)).IndexOfAnyExcept((byte)0), Is.EqualTo(-1), "cleared before it is lent again");
        blocks.Release();
    }

    [Test]
    public void Small_files_and_files_bigger_than_the_limit_are_never_kept()
    {
        var blocks = new NativeBlocks(64 * MB, 4);
        blocks.Return(blocks.Rent(NativeBlocks.SmallestKept - 1));
        blocks.Return(blocks.Rent(65 * MB));

        Assert.That(blocks.KeptBytes, Is.Zero);
    }

    [Test]
    public void Release_hands_every_kept_block_back()
    {
        var blocks = new NativeBlocks(64 * MB, 4);
        blocks.Return(blocks.Rent(8 * MB));
        blocks.Return(blocks.Rent(9 * MB));

        blocks.Release();

        Assert.That(blocks.KeptBytes, Is.Zero);
        Assert.That(blocks.Rent(MB).Capacity, Is.EqualTo(MB), "a new block after the release");
    }

    [Test]
    public void What_a_GIF_frame_does_not_cover_stays_transparent_right_after_an_opaque_picture_of_the_same_size()
    {
        // Whole decoded pictures live in kept blocks too: an earlier upload's pixels must never show
        // through (Skia fills what a GIF frame does not cover, and the block is cleared before use).
        for (var round = 0; round < 4; round++)
        {
            using var opaque = Thumbnails.Of("gif/opaque-canvas.gif");
            using var sparse = Thumbnails.Of("gif/small-frame.gif");

            Assert.That(opaque.GetPixel(5, 5), Is.EqualTo(SKColors.Red), "the opaque picture, to dirty the block");
            Assert.That(sparse.GetPixel(5, 5).Alpha, Is.Zero, $"round {round}: a corner the frame does not cover");
            Assert.That(sparse.GetPixel(50, 50), Is.EqualTo(SKColors.Blue), $"round {round}: the frame");
        }
    }
}
