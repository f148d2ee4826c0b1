using Microsoft.Playwright;

namespace Leasehold.Dashboard.Tests;

/// <summary>
/// One headless Chromium for the whole run: the machine's own (Debian's <c>chromium</c>), found on the PATH or
/// named by <c>LEASEHOLD_CHROMIUM</c>, driven by Playwright. Playwright never downloads a browser here; without
/// Chromium every browser test fails with a message that says how to install it (it does not skip).
/// Each test gets a fresh browser context (its own storage, viewport, time zone).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>The setting that names the browser binary, when it is not <c>chromium</c> on the PATH.</summary>
    public const string ChromiumVariable = "LEASEHOLD_CHROMIUM";

    /// <summary>A folder to write screenshots of the main views to (docs/dashboard.md); unset: none are written.</summary>
    public const string ScreenshotsVariable = "LEASEHOLD_DASHBOARD_SCREENSHOTS";

    // Without the background-networking flags Chromium keeps trying to reach its update and sync services,
    // which stalls it on a closed network. Playwright gives each launch a new temporary profile (--user-data-dir).
    private static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private Exception? _failure;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException(_failure?.Message ?? "the browser is not started", _failure);

    public async Task InitializeAsync()
    {
        try
        {
            Assertions.SetDefaultExpectTimeout(PageSession.WaitMs);
            var executable = FindChromium();
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = executable,
                Headless = true,
                Args = Args,
                Timeout = (float)DashboardServer.Timeout.TotalMilliseconds,
            });
        }
        catch (Exception ex)
        {
            // Reported by each test that asks for the browser, so every browser test fails with this reason.
            _failure = ex;
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
    }

    /// <summary>Chromium's path: <see cref="ChromiumVariable"/>, else <c>chromium</c> or <c>chromium-browser</c> on the PATH.</summary>
    public static string FindChromium()
    {
        if (Environment.GetEnvironmentVariable(ChromiumVariable) is { Length: > 0 } named)
        {
            return File.Exists(named)
                ? named
                : throw new FileNotFoundException($"{ChromiumVariable} names {named}, which does not exist");
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in new[] { "chromium", "chromium-browser" })
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        throw new FileNotFoundException(
            "Chromium was not found on the PATH: the dashboard tests need a real browser and never download one. " +
            $"Install Debian's (apt-get install -y chromium) or set {ChromiumVariable} to its path.");
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
