using Microsoft.Playwright;

namespace Leasehold.Dashboard.Tests;

/// <summary>
/// One browser context and page on a real server, recording what the page logged as an error (console errors
/// and uncaught exceptions), with the bounded waits the tests use.
/// </summary>
public sealed class PageSession : IAsyncDisposable
{
    /// <summary>The bound on a wait for the page (the 1-second promises use their own, shorter one).</summary>
    public const float WaitMs = 10_000;

    private readonly List<string> _errors = [];

    private PageSession(IBrowserContext context, IPage page, DashboardServer server)
    {
        Context = context;
        Page = page;
        Server = server;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_errors)
                {
                    _errors.Add($"console: {message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
            {
                _errors.Add($"uncaught: {error}");
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public DashboardServer Server { get; }

    /// <summary>What the page reported as errors so far.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>A new browser context and page on <paramref name="server"/>'s dashboard.</summary>
    /// <param name="browser">the shared headless browser</param>
    /// <param name="server">the server whose dashboard is opened</param>
    /// <param name="options">the context's options (the base address is set here)</param>
    /// <param name="through">where the page is opened: the server's own address, or a relay in front of it</param>
    public static async Task<PageSession> OpenAsync(BrowserFixture browser, DashboardServer server, BrowserNewContextOptions? options = null, Uri? through = null)
    {
        options ??= new BrowserNewContextOptions();
        options.BaseURL = (through ?? server.BaseAddress).ToString();
        options.ViewportSize ??= new ViewportSize { Width = 1280, Height = 900 };
        options.Locale ??= "en-GB";
        var context = await browser.Browser.NewContextAsync(options);
        context.SetDefaultTimeout(WaitMs);
        var page = await context.NewPageAsync();
        return new PageSession(context, page, server);
    }

    /// <summary>Opens a view (a fragment such as <c>#/pools</c>) and waits for the page's script to start.</summary>
    public async Task GoAsync(string fragment = "#/")
    {
        await Page.GotoAsync("/" + fragment);
        await Assertions.Expect(Page.Locator("main > h2, main > p.notice, main h2")).Not.ToHaveCountAsync(0, new() { Timeout = WaitMs });
    }

    /// <summary>Waits until the page reads the event stream (not polling, not disconnected).</summary>
    public Task WaitLiveAsync() =>
        Assertions.Expect(Page.Locator("#status")).ToHaveAttributeAsync("data-state", "live", new() { Timeout = WaitMs });

    /// <summary>Writes a screenshot to the folder <see cref="BrowserFixture.ScreenshotsVariable"/> names, if any.</summary>
    public async Task ScreenshotAsync(string name)
    {
        if (Environment.GetEnvironmentVariable(BrowserFixture.ScreenshotsVariable) is not { Length: > 0 } folder)
        {
            return;
        }
        Directory.CreateDirectory(folder);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"dashboard-{name}.png"), FullPage = true });
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();
}
