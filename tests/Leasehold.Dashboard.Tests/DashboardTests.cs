using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Leasehold.Dashboard.Tests;

/// <summary>The dashboard in headless Chromium against the real server: what a person sees, and how fast.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardTests(BrowserFixture browser) : IAsyncLifetime
{
    private DashboardServer? _server;

    private DashboardServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await DashboardServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private Task<PageSession> OpenAsync(BrowserNewContextOptions? options = null) => PageSession.OpenAsync(browser, Server, options);

    private static ILocator Holder(IPage page, string path, string owner) =>
        page.Locator($"li[data-path='{path}'] .holder").Filter(new() { HasText = owner });

    [Fact]
    public async Task EveryViewLoadsWithoutConsoleErrorsAndTheStreamGoesLive()
    {
        await using var session = await OpenAsync();
        await session.GoAsync();
        await session.WaitLiveAsync();
        foreach (var (link, heading) in new[] { ("Pools", "Pools and their resources"), ("History", "History"), ("Charts", "Charts"), ("Locks", "Held paths") })
        {
            await session.Page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = link, Exact = true }).ClickAsync();
            await Expect(session.Page.Locator("main h2").First).ToHaveTextAsync(heading);
            await Expect(session.Page.GetByRole(AriaRole.Link, new() { Name = link, Exact = true })).ToHaveAttributeAsync("aria-current", "page");
        }
        await Expect(session.Page.Locator("#status")).ToHaveAttributeAsync("data-state", "live");
        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task ALeaseAppearsWithinASecondAndDisappearsWithinASecondOfItsRelease()
    {
        await using var session = await OpenAsync();
        await session.GoAsync();
        await session.WaitLiveAsync();
        var page = session.Page;

        var lease = await Server.AcquireAsync("""{"path": "/lab/rack-2/phone-7", "owner": "ci-42", "ttl": 600}""");
        var clock = Stopwatch.StartNew();
        var holder = Holder(page, "/lab/rack-2/phone-7", "ci-42");
        await Expect(holder).ToBeVisibleAsync(new() { Timeout = 1000 });
        var appeared = clock.Elapsed;
        await Expect(holder).ToContainTextAsync("exclusive");
        await Expect(holder).ToContainTextAsync("fence 1");
        await Expect(holder).ToContainTextAsync("expires in");
        await Expect(page.Locator("#count-leases")).ToHaveTextAsync("1");

        await Server.ReleaseAsync(lease);
        clock.Restart();
        await Expect(page.Locator("li[data-path='/lab/rack-2/phone-7']")).ToHaveCountAsync(0, new() { Timeout = 1000 });
        var gone = clock.Elapsed;
        await Expect(page.Locator("#tree")).ToContainTextAsync("Nothing is held");
        Assert.True(appeared < TimeSpan.FromSeconds(1) && gone < TimeSpan.FromSeconds(1), $"appeared after {appeared}, gone after {gone}");
        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task AStreamGoneSilentIsGivenUpAndWhatHappenedMeanwhileStillAppears()
    {
        // Keep-alives every 0.2 s of quiet: the page takes 5.4 s of silence for a lost stream.
        await using var server = await DashboardServer.StartAsync("--Leasehold:Events:KeepAliveSeconds=0.2");
        await using var relay = new Leasehold.Client.Tests.BlackholeProxy(server.BaseAddress.Port);
        await using var session = await PageSession.OpenAsync(browser, server, through: relay.Address);
        await session.GoAsync();
        await session.WaitLiveAsync();
        var page = session.Page;

        // The stream's connection stops passing anything, without a reset; the page's other connections are left alone.
        Assert.Equal(1, relay.FreezeConnections(sent => sent.StartsWith("GET /v1/events", StringComparison.Ordinal)));
        await server.AcquireAsync("""{"path": "/lab/silent/phone-1", "owner": "ci-7", "ttl": 600}""");
        // The frozen stream cannot bring the grant (the live tree changes only by the stream's events): it shows once the
        // page gave that stream up and read a new one from the last event it had.
        await Expect(Holder(page, "/lab/silent/phone-1", "ci-7")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await session.WaitLiveAsync();
        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task TheQueueShowsAWaiterUntilItGivesUp()
    {
        await using var session = await OpenAsync();
        await session.GoAsync();
        var page = session.Page;
        await Server.AcquireAsync("""{"path": "/jobs/nightly", "owner": "ci-42"}""");
        using var giveUp = new CancellationTokenSource();
        var waiting = Server.SendJsonAsync(HttpMethod.Post, "/v1/leases", """{"path": "/jobs/nightly", "owner": "etl", "wait": 60}""", HttpStatusCode.Created, cancellationToken: giveUp.Token);

        var waiter = page.Locator("li[data-path='/jobs/nightly'] .waiter").Filter(new() { HasText = "etl" });
        await Expect(waiter).ToBeVisibleAsync();
        await Expect(waiter).ToContainTextAsync("waits (exclusive)");
        await Expect(page.Locator("li[data-path='/jobs/nightly']")).ToContainTextAsync("1 waiting");
        await Expect(page.Locator("#count-waiters")).ToHaveTextAsync("1");

        // The waiting client goes away: the server takes it out of the queue, and the page follows.
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await Expect(waiter).ToHaveCountAsync(0);
        await Expect(page.Locator("#count-waiters")).ToHaveTextAsync("0");
    }

    [Fact]
    public async Task ChartsRenderFromHistoryWithData()
    {
        await SeedPoolAsync();
        await using var session = await OpenAsync();
        await session.GoAsync("#/charts");
        var page = session.Page;

        var utilization = page.Locator("figure[data-chart='utilization']");
        var holds = page.Locator("figure[data-chart='holds:/lab']");
        var queue = page.Locator("figure[data-chart='queue']");
        var wait = page.Locator("figure[data-chart='wait']");
        foreach (var figure in new[] { utilization, holds, queue, wait })
        {
            await Expect(figure.Locator("canvas")).ToBeVisibleAsync();
            try
            {
                await Expect(figure).Not.ToHaveAttributeAsync("data-points", "0");
            }
            catch (PlaywrightException e)
            {
                // What the page and the server knew, so that a failure says which of them was wrong.
                var texts = await page.Locator("main .notice, figure[data-chart] p").AllInnerTextsAsync();
                var history = await Server.SendJsonAsync(HttpMethod.Get, "/v1/history?prefix=/lab", null, HttpStatusCode.OK);
                throw new Xunit.Sdk.XunitException($"{e.Message}\npage: {string.Join(" | ", texts)}\nhistory: {history}");
            }
        }
        // Five leases held well under a second ended on the pool: all in the first bin.
        await Expect(holds.Locator("p")).ToContainTextAsync("< 1 s: 5, 1–10 s: 0");
        await Expect(page.Locator("main .notice")).ToContainTextAsync("5 leases ended");
        // The canvas is painted, not merely there: some of its pixels are not transparent.
        var painted = await utilization.Locator("canvas").EvaluateAsync<int>("""
            c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++; return n; }
            """);
        Assert.True(painted > 1000, $"only {painted} pixels painted");
    }

    [Fact]
    public async Task APathsPageCanBeOpenedFromItsLinkAndShowsHoldersQueueAndAttributes()
    {
        await Server.DeclareAsync("/lab/phone-7", """{"id": "phone-7", "os": "android"}""");
        await Server.AcquireAsync("""{"path": "/lab/phone-7", "owner": "ci-42", "ttl": 600}""");
        using var giveUp = new CancellationTokenSource();
        var waiting = Server.SendJsonAsync(HttpMethod.Post, "/v1/leases", """{"path": "/lab/phone-7", "owner": "etl", "wait": 60}""", HttpStatusCode.Created, cancellationToken: giveUp.Token);
        try
        {
            await using var session = await OpenAsync();
            // As a shared link: the page opens straight on the path.
            await session.GoAsync("#/path/lab/phone-7");
            var page = session.Page;
            await Expect(page).ToHaveTitleAsync("/lab/phone-7 · Leasehold");
            await Expect(page.Locator("main h2.breadcrumb")).ToHaveTextAsync("/lab/phone-7");
            await Expect(page.Locator("#path tr[data-lease]")).ToContainTextAsync("ci-42");
            await Expect(page.Locator("#path tr[data-waiter]")).ToContainTextAsync("etl");
            await Expect(page.Locator("#path .attrs")).ToContainTextAsync("os=android");
            // From the tree, the same page by its link.
            await session.GoAsync("#/");
            await page.Locator("a[href='#/path/lab/phone-7']").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Uri(Server.BaseAddress, "/#/path/lab/phone-7").ToString());
            await Expect(page.Locator("#path tr[data-lease]")).ToContainTextAsync("ci-42");
        }
        finally
        {
            await giveUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        }
    }

    [Fact]
    public async Task ADrainFromBeforeThePageOpenedIsShownFromTheSnapshot()
    {
        await Server.DeclareAsync("/lab/phone-7", """{"os": "android"}""");
        await Server.DeclareAsync("/bench/scope-1", """{"kind": "scope"}""");
        await Server.SendJsonAsync(HttpMethod.Put, "/v1/admin/drains/lab", null, HttpStatusCode.Created);
        await using var session = await OpenAsync();
        await session.GoAsync("#/pools");
        await session.WaitLiveAsync();
        var page = session.Page;
        await Expect(page.Locator("tr[data-resource='/lab/phone-7']")).ToContainTextAsync("free, drained");
        await Expect(page.Locator("tr[data-resource='/bench/scope-1'] td.state-free")).ToHaveTextAsync("free");
        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task AfterAResetTheChartsReadTheHistoryAgain()
    {
        // One event of history and of buffer: a command with several events cuts the page's stream off, and
        // its reconnection finds the events it missed gone: reset, then a snapshot.
        await using var server = await DashboardServer.StartAsync("--Leasehold:Events:History=1", "--Leasehold:Events:Buffer=1");
        await using var session = await PageSession.OpenAsync(browser, server);
        var historyReads = 0;
        session.Page.Request += (_, request) =>
        {
            if (request.Url.Contains("/v1/history", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref historyReads);
            }
        };
        await session.GoAsync("#/charts");
        await session.WaitLiveAsync();
        var page = session.Page;
        await Expect(page.Locator("main .notice")).ToContainTextAsync("0 leases ended");
        Assert.Equal(1, Volatile.Read(ref historyReads));

        var opened = await server.SendJsonAsync(HttpMethod.Post, "/v1/sessions", """{"ttl": 60, "owner": "batch"}""", HttpStatusCode.Created);
        var id = opened.GetProperty("id").GetInt64();
        var token = opened.GetProperty("token").GetString()!;
        for (var i = 0; i < 3; i++)
        {
            await server.SendJsonAsync(HttpMethod.Post, "/v1/leases", $$"""{"path": "/lab/batch-{{i}}", "session": {{id}}}""", HttpStatusCode.Created);
        }
        // Ending the session ends its three leases: four events in one command.
        await server.SendJsonAsync(HttpMethod.Delete, $"/v1/sessions/{id}", null, HttpStatusCode.NoContent, token);
        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref historyReads) < 2 && deadline.Elapsed < DashboardServer.Timeout)
        {
            await Task.Delay(50);
        }
        Assert.True(Volatile.Read(ref historyReads) >= 2, "the history was not read again after the reset");
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "live");
        await Expect(page.Locator("main .notice")).ToContainTextAsync("3 leases ended");
    }

    [Fact]
    public async Task HistoryIsFilteredByOwnerAndByPrefix()
    {
        foreach (var (path, owner) in new[] { ("/x/one", "alice"), ("/y/two", "bob"), ("/y/three", "alice") })
        {
            await Server.ReleaseAsync(await Server.AcquireAsync($$"""{"path": "{{path}}", "owner": "{{owner}}"}"""));
        }
        await using var session = await OpenAsync();
        var page = session.Page;
        await session.GoAsync("#/history?owner=alice");
        var rows = page.Locator("#history tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        foreach (var row in await rows.AllAsync())
        {
            await Expect(row).ToContainTextAsync("alice");
        }
        await page.GetByLabel("Owner").FillAsync("");
        await page.GetByLabel("Path prefix").FillAsync("y");
        await page.GetByLabel("Path prefix").PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Uri(Server.BaseAddress, "/#/history?prefix=%2Fy").ToString());
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Filter(new() { HasText = "/x/one" })).ToHaveCountAsync(0);
        await Expect(rows.First).ToContainTextAsync("/y/three");
    }

    [Fact]
    public async Task TimesAreShownInTheViewersTimeZone()
    {
        var lease = await Server.SendJsonAsync(HttpMethod.Post, "/v1/leases", """{"path": "/tz", "owner": "ci-42"}""", HttpStatusCode.Created);
        var acquired = lease.GetProperty("acquiredAt").GetDateTimeOffset();
        await using var session = await OpenAsync(new BrowserNewContextOptions { TimezoneId = "Asia/Tokyo", Locale = "en-GB" });
        await session.GoAsync();
        var tokyo = acquired.ToOffset(TimeSpan.FromHours(9)).ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        await Expect(Holder(session.Page, "/tz", "ci-42").Locator("time").First).ToContainTextAsync(tokyo);
        await Expect(session.Page.Locator("#zone")).ToHaveTextAsync("Asia/Tokyo");
    }

    [Fact]
    public async Task OnAPhoneNothingScrollsSidewaysAndTheKeyboardReachesEveryView()
    {
        await SeedPoolAsync();
        await Server.AcquireAsync("""{"paths": ["/a-rather-long-path-name/with/several/segments/and-more", "/db/orders"], "owner": "a-long-owner-name-for-a-narrow-screen", "ttl": 600}""");
        await using var session = await OpenAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, IsMobile = true, HasTouch = true });
        var page = session.Page;
        foreach (var view in new[] { "#/", "#/pools", "#/history", "#/charts", "#/path/lab/phone-1" })
        {
            await session.GoAsync(view);
            await Expect(page.Locator("main .notice").Filter(new() { HasText = "Loading" })).ToHaveCountAsync(0);
            var sizes = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
            var (scroll, width) = (sizes[0], sizes[1]);
            Assert.True(scroll <= width, $"{view}: the page is {scroll} px wide in a {width} px window");
        }

        // Keyboard only, from a freshly loaded page: Tab to the Pools link, Enter opens the view.
        await session.GoAsync("#/");
        await page.ReloadAsync();
        for (var i = 0; i < 10 && !await page.EvaluateAsync<bool>("() => document.activeElement?.textContent === 'Pools'"); i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Uri(Server.BaseAddress, "/#/pools").ToString());
        await Expect(page.Locator("main h2").First).ToHaveTextAsync("Pools and their resources");
    }

    /// <summary>
    /// The main views with a small lab in use, each checked for what it must show; with
    /// LEASEHOLD_DASHBOARD_SCREENSHOTS set, their pictures are written there (docs/images holds these).
    /// </summary>
    [Fact]
    public async Task TheMainViewsShowALabInUse()
    {
        await SeedPoolAsync();
        await Server.AcquireAsync("""{"pool": "/lab", "require": {"os": "android"}, "owner": "ci-42", "ttl": 900}""");
        await Server.AcquireAsync("""{"paths": ["/db/orders", "/db/users"], "mode": "shared", "owner": "report"}""");
        await Server.AcquireAsync("""{"path": "/jobs/nightly", "owner": "etl", "ttl": 3600}""");
        using var giveUp = new CancellationTokenSource();
        var waiting = Server.SendJsonAsync(HttpMethod.Post, "/v1/leases", """{"path": "/jobs/nightly", "owner": "backup", "wait": 60}""", HttpStatusCode.Created, cancellationToken: giveUp.Token);
        try
        {
            await using var session = await OpenAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 700 } });
            var page = session.Page;
            await session.GoAsync("#/");
            await Expect(page.Locator(".waiter").Filter(new() { HasText = "backup" })).ToBeVisibleAsync();
            await Expect(Holder(page, "/db/orders", "report")).ToContainTextAsync("shared");
            await session.ScreenshotAsync("locks");

            await session.GoAsync("#/pools");
            await Expect(page.Locator("section[data-pool='/lab'] .summary")).ToContainTextAsync("1 / 3");
            await Expect(page.Locator("section[data-pool='/lab'] td.state-free")).ToHaveCountAsync(2);
            await Expect(page.Locator("section[data-pool='/lab'] td.state-held")).ToContainTextAsync("ci-42");
            await session.ScreenshotAsync("pools");

            await session.GoAsync("#/history");
            await Expect(page.Locator("#history tbody tr")).ToHaveCountAsync(5);
            await session.ScreenshotAsync("history");

            await session.GoAsync("#/charts?window=900");
            await Expect(page.Locator("#chart-window")).ToHaveValueAsync("900");
            await Expect(page.Locator("figure[data-chart='holds:/lab'] canvas")).ToBeVisibleAsync();
            await session.ScreenshotAsync("charts");

            await session.GoAsync("#/path/jobs/nightly");
            await Expect(page.Locator("#path tr[data-waiter]")).ToContainTextAsync("backup");
            await session.ScreenshotAsync("path");

            await page.SetViewportSizeAsync(390, 844);
            await session.GoAsync("#/");
            await Expect(page.Locator(".waiter").Filter(new() { HasText = "backup" })).ToBeVisibleAsync();
            await session.ScreenshotAsync("phone");
        }
        finally
        {
            await giveUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        }
    }

    /// <summary>
    /// A pool /lab of three phones, and five leases on it that ended, each held well under a second: three by
    /// requirement, then two on phone-2, the second of which waited in the queue for the first.
    /// </summary>
    private async Task SeedPoolAsync()
    {
        for (var i = 1; i <= 3; i++)
        {
            await Server.DeclareAsync($"/lab/phone-{i}", $$"""{"id": "phone-{{i}}", "os": "{{(i == 2 ? "ios" : "android")}}", "online": true}""");
        }
        for (var i = 0; i < 3; i++)
        {
            await Server.ReleaseAsync(await Server.AcquireAsync($$"""{"pool": "/lab", "require": {"os": "android"}, "owner": "job-{{i}}", "ttl": 60}"""));
        }
        var first = await Server.AcquireAsync("""{"path": "/lab/phone-2", "owner": "job-ios"}""");
        var second = Server.AcquireAsync("""{"path": "/lab/phone-2", "owner": "job-ios-2", "wait": 30}""");
        // The engine counts in milliseconds, and on a quick machine the whole seed takes a few: the waiter stays queued
        // until it has waited a visible while, or its history entry would rightly say it queued for 0 s.
        var deadline = Stopwatch.StartNew();
        while ((await Server.SendJsonAsync(HttpMethod.Get, "/v1/resources/lab/phone-2", null, HttpStatusCode.OK)).GetProperty("queue") is var queue
               && (queue.GetArrayLength() == 0 || DateTimeOffset.UtcNow - queue[0].GetProperty("since").GetDateTimeOffset() < TimeSpan.FromMilliseconds(50)))
        {
            Assert.True(deadline.Elapsed < DashboardServer.Timeout, "the second request never queued");
            await Task.Delay(20);
        }
        await Server.ReleaseAsync(first);
        await Server.ReleaseAsync(await second);
        // The charts are read from the history: the waiter's lease is there, with the time it queued.
        var entries = (await Server.SendJsonAsync(HttpMethod.Get, "/v1/history?prefix=/lab", null, HttpStatusCode.OK)).GetProperty("entries");
        Assert.Equal(5, entries.GetArrayLength());
        Assert.Contains(entries.EnumerateArray(), e => e.GetProperty("owner").GetString() == "job-ios-2" && e.GetProperty("queued").GetDouble() > 0);
    }
}
