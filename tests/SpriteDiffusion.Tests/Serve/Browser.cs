using Microsoft.Playwright;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>
/// Headless Chromium through Playwright, launched from Debian's binary, with a page that records
/// every script error and console error (a Content-Security-Policy violation shows up there).
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Browser(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Context = context;
        Page = page;
        page.Console += (_, m) => { if (m.Type == "error") Problems.Add($"console: {m.Text}"); };
        page.PageError += (_, e) => Problems.Add($"page error: {e}");
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }
    public List<string> Problems { get; } = [];

    public static async Task<Browser> OpenAsync(string url, int width = 1280, int height = 800)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.Path, Headless = true, Timeout = 60_000,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            AcceptDownloads = true, ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new BrowserContextGrantPermissionsOptions { Origin = url.TrimEnd('/') });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        var opened = new Browser(playwright, browser, context, page);
        await page.GotoAsync(url);
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#model option').length > 0");
        return opened;
    }

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        await _browser.CloseAsync();
        _playwright.Dispose();
    }
}
