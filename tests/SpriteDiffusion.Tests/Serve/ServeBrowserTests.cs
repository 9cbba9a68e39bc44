using System.IO.Compression;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>The page in a real headless Chromium against a real loopback server, as a person uses it.</summary>
public class ServeBrowserTests
{
    [ChromiumFact]
    public async Task GenerateWatchItDenoiseThenDownloadASprite()
    {
        await using var host = await PlaygroundHost.StartAsync(realServer: true);
        using var paused = new ManualResetEventSlim();
        using var resume = new ManualResetEventSlim();
        // Holds the generation at its third step, so the page can be seen mid-way.
        host.State.StepHook = (done, cancel) =>
        {
            if (done != 3) return;
            paused.Set();
            resume.Wait(cancel);
        };
        await using var browser = await Browser.OpenAsync(host.BaseUrl);
        var page = browser.Page;
        await page.SelectOptionAsync("#model", "bundled");
        await page.SelectOptionAsync("#class", "dogs");
        await page.FillAsync("#guidance", "2");
        await page.SelectOptionAsync("#method", "ddim");
        await page.FillAsync("#steps", "5");
        await page.FillAsync("#seed", "11");
        await page.FillAsync("#count", "4");
        await page.ClickAsync("#generate");

        Assert.True(paused.Wait(TimeSpan.FromSeconds(60)), "the generation never reached its third step");
        await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.startsWith('Step 2 of 5')");
        Assert.Equal(2.0, await page.EvalOnSelectorAsync<double>("#progress", "p => p.value"));
        Assert.Equal(5.0, await page.EvalOnSelectorAsync<double>("#progress", "p => p.max"));
        Assert.Contains("left", await page.TextContentAsync("#status"));
        Assert.Equal(4, await page.Locator("#grid .cell canvas").CountAsync());
        // The preview is drawn in place: noisy pixels, not a blank canvas.
        Assert.True(await page.EvalOnSelectorAsync<bool>("#grid .cell canvas",
            "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 !== 3 && v !== 0)"));
        Assert.True(await page.IsDisabledAsync("#generate"));
        resume.Set();

        await page.WaitForSelectorAsync("#status[data-state='done']");
        await page.WaitForFunctionAsync("() => { const imgs = [...document.querySelectorAll('#grid .cell img')]; return imgs.length === 4 && imgs.every(i => i.complete && i.naturalWidth > 0); }");
        var sizes = await page.EvalOnSelectorAllAsync<int[][]>("#grid .cell img", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])");
        Assert.All(sizes, s => Assert.Equal([16, 16], s));
        Assert.Equal("pixelated", await page.EvalOnSelectorAsync<string>("#grid .cell img", "i => getComputedStyle(i).imageRendering"));

        await page.Locator("#grid .cell").Nth(1).ClickAsync();
        await page.WaitForSelectorAsync("#detail:not([hidden])");
        Assert.Equal("12", await page.TextContentAsync("#detail-seed"));
        await page.SelectOptionAsync("#detail-scale", "8");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#detail-download"));
        Assert.Equal("dogs_seed12.png", download.SuggestedFilename);
        var png = Png.Read((await download.PathAsync())!);
        Assert.Equal((128, 128), (png.Width, png.Height));
        var fromServer = await ServeApiTests.GetPng(host, (await page.GetAttributeAsync("#detail-download", "href"))!);
        Assert.Equal(fromServer.Pixels, png.Pixels);

        await page.ClickAsync("#detail-copy");
        await page.WaitForFunctionAsync("() => document.getElementById('detail-note').textContent.includes('12')");
        if ((await page.TextContentAsync("#detail-note"))!.Contains("copied"))
            Assert.Equal("12", await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await page.ClickAsync("#detail-use");
        Assert.Equal("12", await page.InputValueAsync("#seed"));
        Assert.Equal("1", await page.InputValueAsync("#count"));

        var zip = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#dl-zip"));
        using (var archive = ZipFile.OpenRead((await zip.PathAsync())!))
            Assert.Equal(4, archive.Entries.Count(e => e.FullName.StartsWith("sprites/", StringComparison.Ordinal)));
        Assert.Empty(browser.Problems);
    }

    [ChromiumFact]
    public async Task ABadFormShowsTheServersMessage()
    {
        await using var host = await PlaygroundHost.StartAsync(realServer: true);
        await using var browser = await Browser.OpenAsync(host.BaseUrl);
        var page = browser.Page;
        await page.FillAsync("#count", "99");
        await page.ClickAsync("#generate");
        await page.WaitForSelectorAsync("#status[data-state='error']");
        Assert.Contains("count must be between 1 and 16", await page.TextContentAsync("#error"));
        Assert.Equal("true", await page.GetAttributeAsync("#count", "aria-invalid"));
        // The refused request is an expected 400, not a page error.
        Assert.All(browser.Problems, p => Assert.Contains("400", p));
    }

    [ChromiumFact]
    public async Task TheTrainingTabShowsARunLive()
    {
        await using var host = await PlaygroundHost.StartAsync(realServer: true);
        ServeRunsTests.WriteRun(host.RunsDirectory, "20260101-000000-rgba", done: 3, total: 10, epochSeconds: 20, ago: TimeSpan.FromSeconds(2));
        await using var browser = await Browser.OpenAsync(host.BaseUrl);
        var page = browser.Page;
        await page.ClickAsync("#tab-training");
        await page.WaitForFunctionAsync("() => document.getElementById('run-status').textContent.startsWith('Running: epoch 3 of 10')");
        Assert.Contains("left", await page.TextContentAsync("#run-status"));
        await page.WaitForFunctionAsync("() => { const imgs = [...document.querySelectorAll('#run-images img')]; return imgs.length === 2 && imgs.every(i => i.complete && i.naturalWidth > 0); }");
        Assert.True(await page.EvalOnSelectorAsync<bool>("#loss-chart",
            "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0)"));
        Assert.Contains("epoch 3/10", await page.TextContentAsync("#run-log"));

        // Another epoch lands: the page follows without a reload.
        ServeRunsTests.WriteRun(host.RunsDirectory, "20260101-000000-rgba", done: 4, total: 10, epochSeconds: 20, ago: TimeSpan.Zero);
        await page.WaitForFunctionAsync("() => document.getElementById('run-status').textContent.startsWith('Running: epoch 4 of 10')");

        await page.ClickAsync("#run-use");
        Assert.Equal("run/20260101-000000-rgba", await page.InputValueAsync("#model"));
        Assert.False(await page.IsHiddenAsync("#panel-generate"));
        Assert.Empty(browser.Problems);
    }
}
