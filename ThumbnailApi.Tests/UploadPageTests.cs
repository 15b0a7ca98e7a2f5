using System.Net;
using Microsoft.Playwright;
using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>The upload page at /, served as static files.</summary>
[TestFixture]
public sealed class UploadPageServingTests
{
    [Test]
    public async Task The_page_its_script_and_style_are_served_with_a_strict_content_security_policy()
    {
        using var factory = new ThumbnailApiFactory();
        using var client = factory.CreateClient();

        foreach (var (path, type) in new[] { ("/", "text/html"), ("/app.js", "text/javascript"), ("/app.css", "text/css") })
        {
            using var response = await client.GetAsync(path);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), path);
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo(type), path);
            Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.StartWith("default-src 'self'"), path);
        }
    }
}

/// <summary>
/// The upload page driven in a real browser: Debian's Chromium, headless, through Playwright
/// (no browser download). Skipped where /usr/bin/chromium is missing, except in CI (CI=true),
/// where .ci/run installs it and a missing browser is a failure.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class UploadPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private ThumbnailApiFactory _factory = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    [OneTimeSetUp]
    public async Task StartServiceAndBrowser()
    {
        if (!File.Exists(Chromium))
        {
            const string reason = $"{Chromium} is not installed, so the page is not tested in a browser: apt-get install -y chromium (.ci/run does).";
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                Assert.Fail(reason);
            }

            Assert.Ignore(reason);
        }

        _factory = new ThumbnailApiFactory();
        _factory.UseKestrel(0); // a real port: the browser cannot reach the in-memory test server
        _factory.StartServer();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    [OneTimeTearDown]
    public async Task StopBrowserAndService()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        _factory?.Dispose();
    }

    [SetUp]
    public async Task OpenPageOnAPhoneSizedScreen()
    {
        _context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _factory.ClientOptions.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 390, Height = 844 },
        });
        _page = await _context.NewPageAsync();
        _page.SetDefaultTimeout((float)Deadline.TotalMilliseconds);
        await _page.GotoAsync("/");
    }

    [TearDown]
    public async Task ClosePage() => await _context.DisposeAsync();

    [Test]
    public async Task An_image_chosen_on_the_page_is_uploaded_and_its_thumbnail_shown_with_its_size_and_a_download_link()
    {
        await _page.GetByLabel("Width").FillAsync("160");
        await _page.GetByLabel("Height").FillAsync("120");
        await _page.GetByLabel("Fit").SelectOptionAsync("contain");
        await _page.GetByLabel("Format").SelectOptionAsync("webp");

        await _page.Locator("#files").SetInputFilesAsync(TestImages.Path("photo.jpg"));

        var item = _page.Locator("li.item").First;
        var thumbnail = item.Locator("img.thumbnail");
        await thumbnail.WaitForAsync();
        await _page.WaitForFunctionAsync("() => { const img = document.querySelector('img.thumbnail'); return img && img.complete && img.naturalWidth > 0; }");
        var natural = await thumbnail.EvaluateAsync<int[]>("img => [img.naturalWidth, img.naturalHeight]");
        Assert.That(natural, Is.EqualTo(new[] { 160, 120 }), "the thumbnail as the browser decoded it");

        Assert.That(await item.GetAttributeAsync("data-state"), Is.EqualTo("done"));
        Assert.That(await item.Locator(".size").TextContentAsync(), Does.StartWith("160 × 120 px · WEBP"));
        var download = item.GetByRole(AriaRole.Link, new() { Name = "Download the thumbnail of photo.jpg" });
        Assert.That(await download.GetAttributeAsync("href"), Does.Match("^api/v1/thumbnail_generator/[0-9a-f]{32}/thumbnail$"));
        Assert.That(await download.GetAttributeAsync("download"), Is.EqualTo("photo-thumbnail.webp"));
        Assert.That(await _page.Locator("#announcer").TextContentAsync(), Does.Contain("ready: 160 by 120 pixels"));

        var screenshot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "upload-page.png");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        TestContext.AddTestAttachment(screenshot, "The upload page after a finished upload (phone-sized screen)");
    }

    [Test]
    public async Task A_text_file_gets_the_apis_error_message_in_plain_words()
    {
        var notes = Path.Combine(Path.GetTempPath(), $"notes-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(notes, "Shopping list: milk, eggs, bread.\n");
        try
        {
            await _page.Locator("#files").SetInputFilesAsync(notes);

            var failed = _page.Locator("li.item[data-state=failed]");
            await failed.WaitForAsync();
            var status = await failed.Locator(".status").TextContentAsync();
            Assert.That(status, Does.StartWith("Not uploaded: The file is not a PNG, JPEG, GIF, BMP, TIFF, WebP, HEIC or AVIF image"));
            Assert.That(await failed.Locator("img").CountAsync(), Is.Zero);
            Assert.That(await failed.Locator(".result").IsVisibleAsync(), Is.False, "a failed card shows no result row");
            Assert.That(await failed.GetByRole(AriaRole.Link).CountAsync(), Is.Zero, "a failed card has no visible link");
            Assert.That(await _page.Locator("#announcer").TextContentAsync(), Does.Contain("Not uploaded"));
        }
        finally
        {
            File.Delete(notes);
        }
    }

    [TestCase("damaged/truncated.png")]
    [TestCase("damaged/truncated.jpg")]
    [TestCase("disguised/pdf.jpg")]
    public async Task A_card_that_failed_after_upload_or_before_it_shows_no_download_link(string file)
    {
        await _page.Locator("#files").SetInputFilesAsync(TestImages.Path(file));

        var failed = _page.Locator("li.item[data-state=failed]");
        await failed.WaitForAsync();
        Assert.That(await failed.Locator(".result").IsVisibleAsync(), Is.False, $"{file}: the result row");
        Assert.That(await failed.Locator("a.download").IsVisibleAsync(), Is.False, $"{file}: the download link");
        Assert.That(await failed.GetByRole(AriaRole.Link).CountAsync(), Is.Zero, $"{file}: no link for assistive technology either");
    }

    [Test]
    public async Task An_out_of_range_width_is_marked_on_its_field_and_nothing_is_uploaded_until_it_is_fixed()
    {
        var width = _page.GetByLabel("Width");
        await width.FillAsync("5000");

        Assert.That(await width.GetAttributeAsync("aria-invalid"), Is.EqualTo("true"));
        var message = _page.Locator("#width-error");
        Assert.That(await message.IsVisibleAsync(), Is.True);
        Assert.That(await message.TextContentAsync(), Is.EqualTo("Width must be a whole number from 1 to 1024."));
        var description = await width.EvaluateAsync<string>("input => input.getAttribute('aria-describedby')");
        Assert.That(description, Is.EqualTo("width-error"), "the message is the field's description");

        await _page.Locator("#files").SetInputFilesAsync(TestImages.Path("photo.jpg"));
        Assert.That(await _page.Locator("li.item").CountAsync(), Is.Zero, "nothing uploaded with a bad width");
        Assert.That(await _page.EvaluateAsync<string>("() => document.activeElement.id"), Is.EqualTo("width"));

        await width.FillAsync("300");
        Assert.That(await width.GetAttributeAsync("aria-invalid"), Is.Null);
        Assert.That(await message.IsVisibleAsync(), Is.False);
        await _page.Locator("#files").SetInputFilesAsync(TestImages.Path("photo.jpg"));
        await _page.Locator("li.item[data-state=done]").WaitForAsync();
    }

    [Test]
    public async Task A_quality_chosen_on_the_page_is_sent_with_the_upload_and_reported_in_the_tasks_options()
    {
        await _page.GetByLabel("Format").SelectOptionAsync("jpeg");
        await _page.GetByLabel("Quality").FillAsync("35");

        await _page.Locator("#files").SetInputFilesAsync(TestImages.Path("photo.jpg"));

        var item = _page.Locator("li.item[data-state=done]");
        await item.WaitForAsync();
        var href = await item.Locator("a.download").GetAttributeAsync("href");
        using var client = new HttpClient { BaseAddress = _factory.ClientOptions.BaseAddress };
        using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync(href![..^"/thumbnail".Length]));
        var options = status.RootElement.GetProperty("options");
        Assert.That(options.GetProperty("quality").GetInt32(), Is.EqualTo(35));
        Assert.That(options.GetProperty("format").GetString(), Is.EqualTo("jpeg"));
    }

    [TestCase("0")]
    [TestCase("101")]
    [TestCase("7.5")]
    public async Task A_quality_outside_1_to_100_is_marked_on_its_field_and_blocks_the_upload(string quality)
    {
        var field = _page.GetByLabel("Quality");
        await field.FillAsync(quality);

        Assert.That(await field.GetAttributeAsync("aria-invalid"), Is.EqualTo("true"));
        Assert.That(await _page.Locator("#quality-error").TextContentAsync(), Is.EqualTo("Quality must be a whole number from 1 to 100."));
        await _page.Locator("#files").SetInputFilesAsync(TestImages.Path("photo.jpg"));
        Assert.That(await _page.Locator("li.item").CountAsync(), Is.Zero, "nothing uploaded with a bad quality");

        await field.FillAsync("");
        Assert.That(await field.GetAttributeAsync("aria-invalid"), Is.Null, "an empty quality means the default");
    }

    [Test]
    public async Task Nothing_on_the_page_is_cut_off_or_overflows_on_a_390_px_wide_screen()
    {
        await _page.GetByLabel("Width").FillAsync("5000"); // with a field's message showing too
        var problems = await _page.EvaluateAsync<string[]>(
            """
            () => {
              const problems = [];
              const page = document.documentElement;
              if (page.scrollWidth > page.clientWidth) problems.push(`the page scrolls sideways: ${page.scrollWidth} > ${page.clientWidth}`);
              const canvas = document.createElement('canvas').getContext('2d');
              for (const element of document.querySelectorAll('input:not([type=file]), select, label, legend, h1, p, .drop')) {
                const box = element.getBoundingClientRect();
                if (box.width > 0 && (box.left < 0 || box.right > page.clientWidth)) problems.push(`${element.id || element.tagName} sticks out`);
                if (element.scrollWidth > element.clientWidth + 1) problems.push(`${element.id || element.tagName} overflows its box`);
              }
              for (const select of document.querySelectorAll('select')) {
                const style = getComputedStyle(select);
                canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
                const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20; // the arrow
                for (const option of select.options) {
                  const needed = canvas.measureText(option.text).width;
                  if (needed > room) problems.push(`${select.id}: "${option.text}" needs ${Math.ceil(needed)} px, has ${Math.floor(room)}`);
                }
              }
              return problems;
            }
            """);

        Assert.That(problems, Is.Empty);
    }

    [Test]
    public async Task Several_images_dropped_on_the_page_each_get_a_thumbnail()
    {
        var files = await _page.EvaluateHandleAsync(
            """
            ([png, gif]) => {
              const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
              const dropped = new DataTransfer();
              dropped.items.add(new File([bytes(png)], 'alpha.png', { type: 'image/png' }));
              dropped.items.add(new File([bytes(gif)], 'photo.gif', { type: 'image/gif' }));
              return dropped;
            }
            """,
            new[] { Convert.ToBase64String(TestImages.Bytes("alpha.png")), Convert.ToBase64String(TestImages.Bytes("photo.gif")) });

        await _page.DispatchEventAsync("#drop", "drop", new Dictionary<string, object> { ["dataTransfer"] = files });

        await _page.WaitForFunctionAsync("() => document.querySelectorAll('li.item[data-state=done] img.thumbnail').length === 2");
        var names = await _page.Locator("li.item .name").AllTextContentsAsync();
        Assert.That(names.Select(name => name.Split(' ')[0]), Is.EquivalentTo(new[] { "alpha.png", "photo.gif" }));
        var sizes = await _page.Locator("li.item .size").AllTextContentsAsync();
        Assert.That(sizes, Is.All.StartWith("100 × 100 px · PNG"));
    }

    [Test]
    public async Task The_keyboard_reaches_the_file_chooser_and_every_option_in_order()
    {
        var reached = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            await _page.Keyboard.PressAsync("Tab");
            reached.Add(await _page.EvaluateAsync<string>("() => document.activeElement.id || document.activeElement.tagName"));
        }

        Assert.That(reached, Is.EqualTo(new[] { "A", "files", "width", "height", "fit", "format", "quality" }));
        var label = await _page.EvaluateAsync<string>("() => document.querySelector('label[for=files]').textContent");
        Assert.That(label, Does.Contain("Choose images"));
    }

    [Test]
    public async Task The_page_and_the_api_docs_load_nothing_from_outside_the_service()
    {
        var outside = new List<string>();
        var origin = _factory.ClientOptions.BaseAddress.GetLeftPart(UriPartial.Authority);
        _page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(origin, StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal))
            {
                outside.Add(request.Url);
            }
        };

        await _page.ReloadAsync(new PageReloadOptions { WaitUntil = WaitUntilState.NetworkIdle });
        await _page.SetViewportSizeAsync(1280, 900); // the docs page folds its sidebar away on a phone
        await _page.GotoAsync("/docs/", new PageGotoOptions { WaitUntil = WaitUntilState.NetworkIdle });
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Upload an image; get a task id" }).WaitForAsync();

        var screenshot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "api-docs-page.png");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        TestContext.AddTestAttachment(screenshot, "The /docs page (Scalar)");

        Assert.That(outside, Is.Empty);
    }
}
