using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Tests.Interop;
using SpriteDiffusion.Web;
using SpriteDiffusion.Web.Hosting;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>
/// Rewrites docs/playground.png, docs/playground-denoising.png and docs/playground-training.png: the page with the bundled model
/// as the README shows it. Skipped unless SPRITES_REGENERATE_FIXTURES=1 (and Chromium is there).
/// </summary>
public class ServeScreenshotTests
{
    [RegenerationFact]
    public async Task ScreenshotsForTheReadme()
    {
        Assert.True(ChromiumFactAttribute.Path is not null, "the screenshots need Chromium");
        string root = RegenerationFactAttribute.RepositoryRoot();
        string bundled = PretrainedModel.TryFind() ?? throw new InvalidOperationException("the bundled model is missing");
        using var runs = new TempDir();
        // The bundled model's own training folder stands in for a run, so the training tab has something real to show.
        string run = Directory.CreateDirectory(runs.File("twemoji16-pretrained")).FullName;
        foreach (string file in Directory.GetFiles(Path.GetDirectoryName(bundled)!))
            if (Path.GetExtension(file) is ".json" or ".csv" || Path.GetFileName(file).StartsWith("samples", StringComparison.Ordinal))
                File.Copy(file, Path.Combine(run, Path.GetFileName(file)));
        var options = new PlaygroundOptions { Port = 0, BundledModel = bundled, RunsDirectory = runs.Path };
        var app = PlaygroundApp.Create(options, b => b.Logging.ClearProviders());
        await app.StartAsync();
        try
        {
            await using var browser = await Browser.OpenAsync(PlaygroundApp.Addresses(app)[0], 1200, 760);
            var page = browser.Page;
            // The classes the small bundled model draws best, with the README's sampler.
            await page.SelectOptionAsync("#class", "Smileys & Emotion");
            await page.SelectOptionAsync("#method", "ddim");
            await page.FillAsync("#seed", "7");
            await page.FillAsync("#count", "16");
            // Held half-way for the picture of the grid sharpening in place.
            using var halfway = new ManualResetEventSlim();
            using var resume = new ManualResetEventSlim();
            app.Services.GetRequiredService<Playground>().StepHook = (done, cancel) =>
            {
                if (done != 30) return;
                halfway.Set();
                resume.Wait(cancel);
            };
            await page.ClickAsync("#generate");
            Assert.True(halfway.Wait(TimeSpan.FromSeconds(120)));
            await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.startsWith('Step 29 of 50')");
            await page.ScreenshotAsync(new() { Path = Path.Combine(root, "docs", "playground-denoising.png"), Clip = new() { X = 0, Y = 0, Width = 760, Height = 680 } });
            resume.Set();
            await page.WaitForSelectorAsync("#status[data-state='done']", new() { Timeout = 120_000 });
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#grid .cell img')].every(i => i.complete && i.naturalWidth > 0)");
            await page.Locator("#grid .cell").Nth(5).ClickAsync();
            await page.WaitForFunctionAsync("() => document.getElementById('detail-img').complete");
            await page.ScreenshotAsync(new() { Path = Path.Combine(root, "docs", "playground.png") });

            await page.ClickAsync("#tab-training");
            await page.WaitForFunctionAsync("() => document.getElementById('run-status').textContent.startsWith('Finished')");
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#run-images img')].every(i => i.complete && i.naturalWidth > 0)");
            await page.ScreenshotAsync(new() { Path = Path.Combine(root, "docs", "playground-training.png") });
            Assert.Empty(browser.Problems);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
