using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Playwright;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Tests.Serve;

namespace SpriteDiffusion.Tests.Imaging;

/// <summary>A test that needs Chromium and PixiJS (tools/pixi, installed by .ci/run); skipped, saying why, without either.</summary>
public sealed class PixiFactAttribute : FactAttribute
{
    /// <summary>PixiJS's browser build, where `npm ci` in tools/pixi puts it.</summary>
    public static string? PixiPath
    {
        get
        {
            string? root = SpriteDiffusion.Checkpoints.RepositoryFiles.FindUpward(Path.Combine("tools", "pixi", "package.json"));
            string? path = root is null ? null : Path.Combine(Path.GetDirectoryName(root)!, "node_modules", "pixi.js", "dist", "pixi.min.js");
            return path is not null && File.Exists(path) ? path : null;
        }
    }

    public PixiFactAttribute()
    {
        if (ChromiumFactAttribute.Path is null) Skip = "no Chromium at /usr/bin/chromium (apt-get install chromium, as .ci/run does)";
        else if (PixiPath is null) Skip = "no PixiJS in tools/pixi/node_modules (cd tools/pixi && npm ci, as .ci/run does)";
    }
}

/// <summary>The atlas `sprites sample --sheet` writes, loaded as it is by PixiJS in a real browser.</summary>
public class PixiAtlasTests
{
    [PixiFact]
    public async Task PixiLoadsTheSheetAndEveryFrameHoldsItsSprite()
    {
        using var dir = new TempDir();
        var rng = new Random(5);
        var sprites = Enumerable.Range(0, 7).Select(i =>
        {
            var pixels = new byte[16 * 16 * 4];
            rng.NextBytes(pixels);
            for (int p = 0; p < 256; p++) pixels[4 * p + 3] = (byte)(rng.Next(3) == 0 ? 0 : 255);
            return new NamedSprite($"Flags_{i:D3}", new RgbaImage(16, 16, pixels));
        }).ToList();
        var sheet = SpriteSheet.Pack(sprites, scale: 2);
        sheet.Write(dir.File("sheet.png"), AtlasFormat.TexturePackerHash);
        File.Copy(PixiFactAttribute.PixiPath!, dir.File("pixi.min.js"));
        File.WriteAllText(dir.File("index.html"), "<!doctype html><meta charset=utf-8><script src=\"pixi.min.js\"></script>");

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(dir.Path), ServeUnknownFileTypes = true });
        await app.StartAsync();
        string url = app.Urls.First();

        using var playwright = await Playwright.CreateAsync();
        // 60 s, as the playground's Browser allows: Playwright's 30-s defaults only guard against a
        // hang, and a loaded machine can take much of that to start Chromium and load the page.
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.Path, Headless = true, Timeout = 60_000, Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(url + "/index.html");
        // PixiJS's own loader reads the atlas; each frame's pixels are read back from the image it decoded.
        var frames = await page.EvaluateAsync<JsonElement>("""
            async () => {
              const sheet = await PIXI.Assets.load('sheet.json');
              const source = sheet.textureSource.resource;
              const canvas = document.createElement('canvas');
              canvas.width = source.width; canvas.height = source.height;
              const g = canvas.getContext('2d');
              g.drawImage(source, 0, 0);
              return Object.entries(sheet.textures).map(([name, t]) => ({
                name, x: t.frame.x, y: t.frame.y, w: t.frame.width, h: t.frame.height,
                pixels: Array.from(g.getImageData(t.frame.x, t.frame.y, t.frame.width, t.frame.height).data),
              }));
            }
            """);
        Assert.Equal(sprites.Select(s => s.Name).Order(), frames.EnumerateArray().Select(f => f.GetProperty("name").GetString()!).Order());
        foreach (var frame in frames.EnumerateArray())
        {
            var expected = sheet.Frames.Single(f => f.Name == frame.GetProperty("name").GetString());
            Assert.Equal((expected.X, expected.Y, 32, 32),
                (frame.GetProperty("x").GetInt32(), frame.GetProperty("y").GetInt32(), frame.GetProperty("w").GetInt32(), frame.GetProperty("h").GetInt32()));
            var source = sprites.Single(s => s.Name == expected.Name).Image;
            var pixels = frame.GetProperty("pixels").EnumerateArray().Select(v => (byte)v.GetInt32()).ToArray();
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                {
                    int s = ((y / 2) * 16 + x / 2) * 4, d = (y * 32 + x) * 4;
                    Assert.Equal(source.Pixels[s + 3], pixels[d + 3]);
                    if (source.Pixels[s + 3] == 255)
                        Assert.Equal(source.Pixels.AsSpan(s, 3).ToArray(), pixels.AsSpan(d, 3).ToArray());
                }
        }
        await app.StopAsync();
    }
}
