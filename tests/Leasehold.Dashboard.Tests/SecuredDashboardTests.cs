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
}
