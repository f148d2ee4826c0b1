using static Microsoft.Playwright.Assertions;

namespace Leasehold.Dashboard.Tests;

/// <summary>With security on, the page asks for an API key, keeps it in the tab and reads with it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SecuredDashboardTests(BrowserFixture browser)
{
    [Fact]
    public async Task ThePageAsksForAKeyKeepsItInTheTabAndShowsWhatTheKeyMayRead()
    {
        await using var server = await DashboardServer.StartAsync(secured: true);
        await server.AcquireAsync("""{"path": "/lab/phone-7", "owner": "ci-42", "ttl": 600}""");
        await using var session = await PageSession.OpenAsync(browser, server);
        var page = session.Page;
        await page.GotoAsync("/#/");

        await Expect(page.Locator("#key-form")).ToBeVisibleAsync();
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "unauthorized");
        await Expect(page.Locator("li[data-path='/lab/phone-7']")).ToHaveCountAsync(0);

        await page.GetByLabel("API key").FillAsync(server.ApiKey!);
        await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Use this key" }).ClickAsync();
        await Expect(page.Locator("#key-form")).ToBeHiddenAsync();
        await Expect(page.Locator("li[data-path='/lab/phone-7'] .holder")).ToContainTextAsync("ci-42");
        Assert.Equal(server.ApiKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('leasehold.apiKey')"));

        // Kept across a reload of the tab, forgotten on request.
        await page.ReloadAsync();
        await Expect(page.Locator("li[data-path='/lab/phone-7'] .holder")).ToContainTextAsync("ci-42");
        await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Forget API key" }).ClickAsync();
        await Expect(page.Locator("#key-form")).ToBeVisibleAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('leasehold.apiKey')"));
    }

    [Fact]
    public async Task AKeyThatMayReadOnlyPartOfTheTreeIsToldHowAndSeesThatPartLive()
    {
        await using var server = await DashboardServer.StartAsync(secured: true, "--Leasehold:Security:Rules:0:Prefix=/lab/**");
        await server.AcquireAsync("""{"path": "/lab/phone-7", "owner": "ci-42", "ttl": 600}""");
        await using var session = await PageSession.OpenAsync(browser, server);
        var page = session.Page;
        await page.GotoAsync("/#/");
        await page.GetByLabel("API key").FillAsync(server.ApiKey!);
        await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Use this key" }).ClickAsync();

        // The whole tree is not the key's to read: the page says so, and how to show the part it may read.
        await Expect(page.Locator("#key-form")).ToBeVisibleAsync();
        await Expect(page.Locator("#key-reason")).ToContainTextAsync("/?prefix=/that/part");

        await page.GotoAsync("/?prefix=/lab#/");
        await Expect(page.Locator("#key-form")).ToBeHiddenAsync();
        await Expect(page.Locator("li[data-path='/lab/phone-7'] .holder")).ToContainTextAsync("ci-42");
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "live");
        await server.AcquireAsync("""{"path": "/lab/phone-8", "owner": "ci-43", "ttl": 600}""");
        await Expect(page.Locator("li[data-path='/lab/phone-8'] .holder")).ToContainTextAsync("ci-43");
        // The history view reads the page's part too (the whole tree would be refused).
        await page.GotoAsync("/?prefix=/lab#/history");
        await Expect(page.Locator("main h2").First).ToHaveTextAsync("History");
        await Expect(page.Locator("main")).Not.ToContainTextAsync("403");
    }
}
