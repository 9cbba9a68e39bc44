using System.IO.Compression;
using System.Net;
using System.Text.Json;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Serve;

/// <summary>Every endpoint of the playground, in memory, over tiny checkpoints.</summary>
public class ServeApiTests
{
    [Fact]
    public async Task ThePageAndItsFilesAreServedWithSecurityHeaders()
    {
        await using var host = await PlaygroundHost.StartAsync();
        foreach (var (url, type) in new[]
        {
            ("/", "text/html"), ("/static/app.js", "text/javascript"), ("/static/generate.js", "text/javascript"),
            ("/static/app.css", "text/css"), ("/static/favicon.svg", "image/svg+xml"), ("/api/models", "application/json"),
        })
        {
            using var response = await host.Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            string csp = string.Join(" ", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.Contains("script-src 'self'", csp);
            Assert.DoesNotContain("unsafe-inline", csp);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        }
        string page = await host.Client.GetStringAsync("/");
        // No inline script or style: the policy would block them.
        Assert.DoesNotContain("<script>", page);
        Assert.DoesNotContain("style=", page);
        Assert.DoesNotContain("onclick", page);
    }

    [Theory]
    [InlineData("/static/missing.js")]
    [InlineData("/static/..%2F..%2Fappsettings.json")]
    [InlineData("/nothing/here")]
    [InlineData("/api/nothing")]
    public async Task UnknownAddressesAre404InWords(string url)
    {
        await using var host = await PlaygroundHost.StartAsync();
        using var response = await host.Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task ModelsListTheBundledModelThenRunsWithABestCheckpoint()
    {
        await using var host = await PlaygroundHost.StartAsync();
        Directory.CreateDirectory(host.Dir.File("runs", "no-checkpoint-yet"));
        var answer = await host.GetJson("/api/models");
        var models = answer.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(["bundled", "run/20260101-000000-rgba", "run/20250101-000000-plain"], models.Select(m => m.GetProperty("id").GetString()));
        Assert.Equal(PlaygroundHost.Classes, models[0].GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.True(models[0].GetProperty("guidance").GetBoolean());
        Assert.Equal(4, models[1].GetProperty("channels").GetInt32());
        Assert.False(models[2].GetProperty("conditional").GetBoolean());
        Assert.Empty(models[2].GetProperty("classes").EnumerateArray());
        // Ids only: the server's paths never reach the page.
        Assert.DoesNotContain(host.Dir.Path, answer.GetRawText());
        Assert.Equal(16, answer.GetProperty("limits").GetProperty("maxCount").GetInt32());
    }

    [Fact]
    public async Task AGenerationStreamsItsStepsThenItsDownloads()
    {
        await using var host = await PlaygroundHost.StartAsync();
        // A tiny model finishes faster than a step can be sent: the generation waits at step 2 until
        // the test has seen step 1 arrive, so a live frame is always there to check.
        using var seen = new SemaphoreSlim(0);
        host.State.StepHook = (done, cancel) => { if (done == 2) seen.Wait(cancel); };
        using var response = await host.PostGenerate(new { model = "bundled", method = "ddim", steps = 4, seed = 7, count = 3, @class = "dogs", guidance = 2 });
        var events = new List<ServerEvent>();
        await foreach (var e in ServerEvent.Read(response))
        {
            events.Add(e);
            if (e.Name == "step" && e.Data.GetProperty("done").GetInt32() == 1) seen.Release();
        }
        Assert.Equal("done", events[^1].Name);
        var result = events[^1].Data;
        var started = events.Single(e => e.Name == "started").Data;
        Assert.Equal(3, started.GetProperty("count").GetInt32());
        Assert.Equal("dogs", started.GetProperty("class").GetString());
        var steps = events.Where(e => e.Name == "step").Select(e => e.Data).ToList();
        // A step finished while the last was being sent is folded into the next: never out of order.
        var done = steps.Select(s => s.GetProperty("done").GetInt32()).ToList();
        Assert.Equal(done.Order(), done);
        Assert.Equal([1, 4], new[] { done[0], done[^1] });
        Assert.All(steps, s => Assert.Equal(4, s.GetProperty("total").GetInt32()));
        // Each live step carries x_t as RGBA bytes, sprite after sprite.
        Assert.Equal(3 * 16 * 16 * 4, Convert.FromBase64String(steps[0].GetProperty("frame").GetString()!).Length);
        Assert.Equal(0, steps[^1].GetProperty("remainingMs").GetDouble());

        var sprites = result.GetProperty("sprites").EnumerateArray().ToList();
        Assert.Equal([7UL, 8UL, 9UL], sprites.Select(s => s.GetProperty("seed").GetUInt64()));
        Assert.Equal("dogs_seed8", sprites[1].GetProperty("name").GetString());
        foreach (var sprite in sprites)
        {
            var image = await GetPng(host, sprite.GetProperty("url").GetString()!);
            Assert.Equal((16, 16), (image.Width, image.Height));
        }
        var big = await GetPng(host, sprites[0].GetProperty("url").GetString() + "?scale=8");
        Assert.Equal((128, 128), (big.Width, big.Height));
        var grid = await GetPng(host, result.GetProperty("grid").GetString()!);
        Assert.Equal(2 * 16 * 4 + 3, grid.Width); // 2 columns at 4x with 1-pixel gaps, as `sprites sample`
        var sheet = await GetPng(host, result.GetProperty("sheet").GetString() + "?scale=2");
        Assert.Equal((2 * 32, 2 * 32), (sheet.Width, sheet.Height));
    }

    [Fact]
    public async Task TheAtlasAndTheZipDescribeTheSheet()
    {
        await using var host = await PlaygroundHost.StartAsync();
        var (_, done) = await host.Generate(new { steps = 2, seed = 3, count = 2 });
        string atlasUrl = done.GetProperty("atlas").GetString()!;
        var atlas = JsonDocument.Parse(await host.Client.GetStringAsync(atlasUrl)).RootElement;
        Assert.Equal(["seed3", "seed4"], atlas.GetProperty("frames").EnumerateObject().Select(f => f.Name));
        Assert.Equal("sprites-seed3-2-sheet.png", atlas.GetProperty("meta").GetProperty("image").GetString());
        var array = JsonDocument.Parse(await host.Client.GetStringAsync(atlasUrl + "?atlas=aseprite-array")).RootElement;
        Assert.Equal(JsonValueKind.Array, array.GetProperty("frames").ValueKind);

        using var response = await host.Client.GetAsync(done.GetProperty("zip").GetString() + "?scale=4&atlas=aseprite");
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("sprites-seed3-2.zip", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        using var zip = new ZipArchive(await response.Content.ReadAsStreamAsync());
        Assert.Equal(
            ["batch.json", "sprites-seed3-2-grid.png", "sprites-seed3-2-sheet.json", "sprites-seed3-2-sheet.png", "sprites/seed3.png", "sprites/seed4.png"],
            zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
        using (var entry = zip.GetEntry("sprites/seed4.png")!.Open())
        using (var copy = new MemoryStream())
        {
            entry.CopyTo(copy);
            Assert.Equal(64, Png.Decode(copy.ToArray(), "seed4.png").Width);
        }
        using var manifest = JsonDocument.Parse(zip.GetEntry("batch.json")!.Open());
        Assert.Contains("--seed 4", manifest.RootElement.GetProperty("sprites")[1].GetProperty("command").GetString());
    }

    [Fact]
    public async Task ASpritesSeedDrawsItAgainAlone()
    {
        await using var host = await PlaygroundHost.StartAsync();
        var (_, batch) = await host.Generate(new { method = "ddim", steps = 3, seed = 20, count = 3 });
        var (_, alone) = await host.Generate(new { method = "ddim", steps = 3, seed = 22, count = 1 });
        byte[] third = await host.Client.GetByteArrayAsync(batch.GetProperty("sprites")[2].GetProperty("url").GetString());
        byte[] single = await host.Client.GetByteArrayAsync(alone.GetProperty("sprites")[0].GetProperty("url").GetString());
        Assert.Equal(Png.Decode(single, "alone").Pixels, Png.Decode(third, "third").Pixels);
    }

    [Fact]
    public async Task AnRgbaModelKeepsTransparencyInItsSprites()
    {
        await using var host = await PlaygroundHost.StartAsync();
        var (events, done) = await host.Generate(new { model = "run/20260101-000000-rgba", steps = 2, seed = 1, count = 2 });
        Assert.Equal(4, events.Single(e => e.Name == "started").Data.GetProperty("channels").GetInt32());
        var sprite = await GetPng(host, done.GetProperty("sprites")[0].GetProperty("url").GetString()!);
        // Hard edges: every pixel fully transparent or fully opaque.
        Assert.All(Enumerable.Range(0, 256), p => Assert.Contains(sprite.Pixels[4 * p + 3], new byte[] { 0, 255 }));
    }

    [Fact]
    public async Task TheQueueEndpointCountsFinishedGenerations()
    {
        await using var host = await PlaygroundHost.StartAsync();
        await host.Generate(new { steps = 1, count = 1 });
        var queue = await ServeLimitTests.WaitFor(host, q => q.GetProperty("running").GetInt32() == 0);
        Assert.Equal(0, queue.GetProperty("running").GetInt32());
        Assert.Equal(1, queue.GetProperty("completed").GetInt64());
        Assert.Equal(1, queue.GetProperty("slots").GetInt32());
    }

    internal static async Task<RgbaImage> GetPng(PlaygroundHost host, string url)
    {
        using var response = await host.Client.GetAsync(url);
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        return Png.Decode(await response.Content.ReadAsByteArrayAsync(), url);
    }
}
