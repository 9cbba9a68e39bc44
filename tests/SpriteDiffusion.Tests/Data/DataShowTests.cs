using System.Diagnostics;
using SpriteDiffusion.Data;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Data;

public class DataShowTests
{
    [Fact]
    public void GridUpscalesWithNearestNeighbourAndFramesTilesWithTheGap()
    {
        var rng = new Random(1);
        var tiles = Enumerable.Range(0, 5).Select(_ => { var t = new byte[4 * 3 * 3]; rng.NextBytes(t); return t; }).ToList();
        var gap = new RgbColor(1, 2, 3);
        var grid = ImageGrid.Compose(tiles, columns: 3, tileWidth: 4, tileHeight: 3, scale: 2, gap: 1, gapColor: gap);
        Assert.Equal(3 * 8 + 4, grid.Width);
        Assert.Equal(2 * 6 + 3, grid.Height);
        for (int t = 0; t < 5; t++)
        {
            int left = 1 + (t % 3) * 9, top = 1 + (t / 3) * 7;
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 8; x++)
                {
                    int s = ((y / 2) * 4 + x / 2) * 3, d = ((top + y) * grid.Width + left + x) * 4;
                    Assert.Equal(tiles[t][s..(s + 3)], grid.Pixels[d..(d + 3)]);
                    Assert.Equal(255, grid.Pixels[d + 3]);
                }
        }
        // Gaps, and the empty sixth cell, are the gap colour.
        foreach (var (x, y) in new[] { (0, 0), (9, 3), (20, 7), (25, 10) })
            Assert.Equal([1, 2, 3, 255], grid.Pixels[((y * grid.Width + x) * 4)..((y * grid.Width + x) * 4 + 4)]);
    }

    [Fact]
    public void ModelOutputMapsBackToTheSamePixels()
    {
        var rng = new Random(2);
        var pixels = new byte[2 * 8 * 8 * 3];
        rng.NextBytes(pixels);
        var chw = new float[2 * 3 * 64];
        for (int i = 0; i < 2; i++) SpritePixels.HwcToChw(pixels.AsSpan(i * 192, 192), chw.AsSpan(i * 192, 192), 8);
        chw[0] = 7f; chw[1] = -3f; chw[2] = float.NaN; // out-of-range sampler values clamp
        var grid = ImageGrid.FromChw(chw, count: 2, size: 8, columns: 2, scale: 1, gap: 0);
        Assert.Equal(16, grid.Width);
        Assert.Equal(255, grid.Pixels[0]);
        Assert.Equal(0, grid.Pixels[4]);
        Assert.Equal(0, grid.Pixels[8]);
        for (int y = 0; y < 8; y++)
            for (int x = 3; x < 8; x++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(pixels[192 + (y * 8 + x) * 3 + c], grid.Pixels[(y * 16 + 8 + x) * 4 + c]);
        var big = ImageGrid.Upscale(grid, 3);
        Assert.Equal((48, 24), (big.Width, big.Height));
        Assert.Equal(grid.Pixels[(5 * 16 + 9) * 4 + 1], big.Pixels[(17 * 48 + 29) * 4 + 1]);
    }

    [Fact]
    public void PreviewHasOneRowPerClassOfThatClassesImages()
    {
        using var dir = new TempDir();
        var (images, labels, _, classes) = DatasetTests.WriteRandomSet(dir, 50, 16, 4, 3);
        var data = SpriteDataset.Load(images, labels);
        var grid = DataPreview.Grid(data, perClass: 5, scale: 4, gap: 1);
        Assert.Equal(5 * 64 + 6, grid.Width);
        Assert.Equal(4 * 64 + 5, grid.Height);
        for (int cls = 0; cls < 4; cls++)
        {
            int first = Array.IndexOf(classes, cls);
            var expected = new byte[768];
            data.CopyPixels(first, expected);
            int top = 1 + cls * 65;
            // Pixel (y=10, x=7) of the tile is grid pixel (top + 40..43, 1 + 28..31).
            int d = ((top + 41) * grid.Width + 1 + 29) * 4;
            Assert.Equal(expected[((10 * 16) + 7) * 3], grid.Pixels[d]);
        }
    }

    private static (int Code, string Out, string Err) Sprites(string workDir, params string[] args) =>
        SpriteDiffusion.Tests.Cli.SpritesProcess.Run(workDir, args);

    [Fact]
    public void TheCliShowsImportsAndReportsErrorsWithoutStackTraces()
    {
        using var dir = new TempDir();
        var rng = new Random(4);
        foreach (string cls in new[] { "slimes", "swords" })
            for (int i = 0; i < 3; i++)
            {
                var p = new byte[32 * 32 * 4];
                rng.NextBytes(p);
                Png.Write(dir.File("art", cls, $"{i}.png"), new RgbaImage(32, 32, p));
            }
        File.WriteAllText(dir.File("art", "slimes", "oops.png"), "not a png");

        var failed = Sprites(dir.Path, "data", "import", "art", "--out", "set");
        Assert.Equal(1, failed.Code);
        Assert.Contains("error: ", failed.Err);
        Assert.Contains("oops.png", failed.Err);
        Assert.DoesNotContain("   at ", failed.Err);
        Assert.False(Directory.Exists(dir.File("set")));

        var imported = Sprites(dir.Path, "data", "import", "art", "--out", "set", "--on-error", "skip", "--background", "black");
        Assert.True(imported.Code == 0, imported.Err);
        Assert.Contains("oops.png", imported.Out);
        var data = SpriteDataset.LoadDirectory(dir.File("set"));
        Assert.Equal(["slimes", "swords"], data.ClassNames);
        Assert.Equal(6, data.Count);

        var shown = Sprites(dir.Path, "data", "show", "set", "--out", "preview.png", "--per-class", "4");
        Assert.True(shown.Code == 0, shown.Err);
        Assert.Contains("slimes", shown.Out);
        Assert.Contains("swords", shown.Out);
        var preview = Png.Read(dir.File("preview.png"));
        Assert.Equal((3 * 64 + 4, 2 * 64 + 3), (preview.Width, preview.Height));

        var offline = Sprites(dir.Path, "data", "download", "--out", "orig", "--base-url", $"http://127.0.0.1:{LocalHttpServer.ClosedPort()}/");
        Assert.Equal(1, offline.Code);
        Assert.Contains("no network", offline.Err);
        Assert.DoesNotContain("   at ", offline.Err);
    }
}
