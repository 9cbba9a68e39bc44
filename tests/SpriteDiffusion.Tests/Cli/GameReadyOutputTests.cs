using System.Text.Json;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Data;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Cli;

/// <summary>Transparent sprites, palettes and sheets: from import through training to the files a game loads.</summary>
public class GameReadyOutputTests
{
    private static string Bundled(string name) => Path.Combine(Path.GetDirectoryName(BundledData.DefaultDirectory)!, name);

    [Fact]
    public void KeptAlphaIsStraightAveragedInPremultipliedColourAndTransparentPixelsAreWhite()
    {
        // 32x32 shrunk to 16x16: each output pixel is one 2x2 block of the source.
        var pixels = new byte[32 * 32 * 4];
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
            {
                int at = (y * 32 + x) * 4;
                // Left half opaque blue; right half: alpha 0 with garbage colour, except a red checker.
                bool left = x < 16, red = !left && (x + y) % 2 == 0;
                byte[] v = left ? [0, 0, 255, 255] : red ? [255, 0, 0, 255] : [17, 99, 3, 0];
                v.CopyTo(pixels.AsSpan(at));
            }
        var image = new RgbaImage(32, 32, pixels);
        var rgba = SpriteResampler.PrepareTransparent(image, 0, 0, 32, 32, 16);
        Assert.Equal(16 * 16 * 4, rgba.Length);
        Assert.Equal([0, 0, 255, 255], rgba.AsSpan(0, 4).ToArray());
        // Two red pixels and two transparent ones: half opaque, and red, not red blended with garbage.
        Assert.Equal([255, 0, 0, 128], rgba.AsSpan((5 * 16 + 12) * 4, 4).ToArray());

        var rgb = SpriteResampler.Prepare(image, 0, 0, 32, 32, RgbColor.White, 16);
        Assert.Equal([255, 128, 128], rgb.AsSpan((5 * 16 + 12) * 3, 3).ToArray());

        var allClear = new RgbaImage(16, 16, Enumerable.Range(0, 16 * 16 * 4).Select(i => (byte)(i % 4 == 3 ? 0 : 77)).ToArray());
        var clear = SpriteResampler.PrepareTransparent(allClear, 0, 0, 16, 16, 16);
        for (int p = 0; p < 256; p++) Assert.Equal([255, 255, 255, 0], clear.AsSpan(p * 4, 4).ToArray());
    }

    [Fact]
    public void TheBundledRgbaSetIsTheRgbSetWithItsTransparency()
    {
        var rgb = SpriteDataset.LoadDirectory(BundledData.DefaultDirectory);
        var rgba = SpriteDataset.LoadDirectory(Bundled("twemoji16-rgba"));
        Assert.Equal((3, 4), (rgb.Channels, rgba.Channels));
        Assert.Equal(rgb.Labels, rgba.Labels);
        Assert.Equal(rgb.ClassNames, rgba.ClassNames);
        var a = new byte[16 * 16 * 3];
        var b = new byte[16 * 16 * 4];
        int transparent = 0, opaque = 0, partial = 0;
        for (int i = 0; i < rgb.Count; i++)
        {
            rgb.CopyPixels(i, a);
            rgba.CopyPixels(i, b);
            for (int p = 0; p < 256; p++)
            {
                byte alpha = b[p * 4 + 3];
                if (alpha is 0 or 255)
                {
                    var expected = alpha == 0 ? new byte[] { 255, 255, 255 } : a.AsSpan(p * 3, 3).ToArray();
                    Assert.Equal(expected, b.AsSpan(p * 4, 3).ToArray());
                    if (alpha == 0) transparent++; else opaque++;
                }
                else partial++;
            }
        }
        Assert.True(transparent > 100_000 && opaque > 300_000 && partial > 10_000, $"{transparent} clear, {opaque} opaque, {partial} partial");
    }

    [Fact]
    public void AnRgbaRunTrainsAFourChannelModelWhoseSpritesKeepTheirTransparency()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var options = new TrainingOptions { Data = Bundled("twemoji16-rgba"), NFeat = 8, Epochs = 1, BatchSize = 16, Limit = 80, Output = run, Samples = 0 };
        var result = new Trainer(options, new NoObserver()).Run(CancellationToken.None);
        var (model, info) = Checkpoint.Load(result.BestCheckpoint);
        Assert.Equal(4, model.Config.InChannels);
        Assert.Equal(CheckpointInfo.StraightAlpha, info.Alpha);
        Assert.Equal(CheckpointInfo.StraightAlpha, SafetensorsFile.Read(result.BestCheckpoint).Metadata["alpha"]);

        string[] common = ["sample", "--checkpoint", result.BestCheckpoint, "--steps", "3", "--n", "6"];
        var hard = SpritesProcess.Run(dir.Path, [.. common, "--each", "hard", "--sheet", "sheet.png", "--out", "grid.png"]);
        Assert.True(hard.Code == 0, hard.Out + hard.Err);
        var sprites = Enumerable.Range(0, 6).Select(i => Png.Read(dir.File("hard", $"sprite_{i:D3}.png"))).ToList();
        var alphas = sprites.SelectMany(s => s.Pixels.Where((_, k) => k % 4 == 3)).ToHashSet();
        Assert.Subset(new HashSet<byte> { 0, 255 }, alphas);
        Assert.Contains((byte)0, alphas);
        AssertSheetHolds(dir.File("sheet.png"), sprites.Select(s => ImageGrid.Upscale(s, 1)).ToList(), 4);

        var soft = SpritesProcess.Run(dir.Path, [.. common, "--each", "soft", "--alpha-threshold", "0", "--out", "soft.png"]);
        Assert.True(soft.Code == 0, soft.Out + soft.Err);
        var softAlphas = Enumerable.Range(0, 6).SelectMany(i => Png.Read(dir.File("soft", $"sprite_{i:D3}.png")).Pixels.Where((_, k) => k % 4 == 3)).ToHashSet();
        Assert.Contains(softAlphas, a => a is > 0 and < 255);

        var flat = SpritesProcess.Run(dir.Path, [.. common, "--each", "flat", "--background", "#102030", "--out", "flat.png"]);
        Assert.True(flat.Code == 0, flat.Out + flat.Err);
        Assert.All(Enumerable.Range(0, 6), i => Assert.All(Png.Read(dir.File("flat", $"sprite_{i:D3}.png")).Pixels.Where((_, k) => k % 4 == 3), a => Assert.Equal(255, a)));
    }

    [Fact]
    public void PalettesLeaveOnlyTheirColoursAndAdaptiveOnesAtMostK()
    {
        using var dir = new TempDir();
        string[] common = ["sample", "--steps", "3", "--n", "4", "--seed", "2"];
        var pico = SpritesProcess.Run(dir.Path, [.. common, "--palette", "pico-8", "--dither", "--each", "pico", "--out", "pico.png"]);
        Assert.True(pico.Code == 0, pico.Out + pico.Err);
        var colours = Palette.BuiltIn("pico-8").Colors.ToHashSet();
        foreach (var sprite in Sprites(dir.File("pico"), 4))
            foreach (var c in OpaqueColours(sprite)) Assert.Contains(c, colours);

        var each = SpritesProcess.Run(dir.Path, [.. common, "--colors", "3", "--each", "three", "--out", "three.png"]);
        Assert.True(each.Code == 0, each.Out + each.Err);
        Assert.All(Sprites(dir.File("three"), 4), s => Assert.InRange(OpaqueColours(s).Distinct().Count(), 1, 3));

        var shared = SpritesProcess.Run(dir.Path, [.. common, "--colors", "5", "--shared-palette", "--each", "shared", "--out", "shared.png"]);
        Assert.True(shared.Code == 0, shared.Out + shared.Err);
        Assert.InRange(Sprites(dir.File("shared"), 4).SelectMany(OpaqueColours).Distinct().Count(), 1, 5);
    }

    [Fact]
    public void SheetFramesAreOneXUnlessAScaleIsGivenAndNamedByClass()
    {
        using var dir = new TempDir();
        var r = SpritesProcess.Run(dir.Path, "sample", "--steps", "3", "--per-class", "2", "--sheet", "a.png", "--out", "grid.png");
        Assert.True(r.Code == 0, r.Out + r.Err);
        var atlas = JsonDocument.Parse(File.ReadAllText(dir.File("a.json"))).RootElement;
        var names = atlas.GetProperty("frames").EnumerateObject().Select(f => f.Name).ToList();
        Assert.Equal(18, names.Count);
        Assert.Contains("Smileys & Emotion_000", names);
        Assert.Contains("Flags_001", names);
        Assert.Equal(16, atlas.GetProperty("frames").GetProperty("Flags_001").GetProperty("frame").GetProperty("w").GetInt32());

        var scaled = SpritesProcess.Run(dir.Path, "sample", "--steps", "3", "--n", "3", "--scale", "3", "--sheet", "b.png", "--atlas", "aseprite", "--out", "grid2.png");
        Assert.True(scaled.Code == 0, scaled.Out + scaled.Err);
        var aseprite = JsonDocument.Parse(File.ReadAllText(dir.File("b.json"))).RootElement;
        Assert.Equal(48, aseprite.GetProperty("frames").GetProperty("sprite_002").GetProperty("frame").GetProperty("h").GetInt32());
    }

    [Theory]
    [InlineData("--dither", "--palette")]
    [InlineData("--palette pico-8 --colors 4", "--colors")]
    [InlineData("--shared-palette", "--colors")]
    [InlineData("--sheet s.jpg", ".png")]
    [InlineData("--atlas aseprite", "--sheet")]
    [InlineData("--palette no-such-palette", "no-such-palette")]
    [InlineData("--background mauve", "--background")]
    public void GameReadyFlagMistakesFailCleanlyAndWriteNothing(string flags, string mentioned)
    {
        using var dir = new TempDir();
        var r = SpritesProcess.Run(dir.Path, ["sample", "--steps", "2", "--n", "1", .. flags.Split(' ')]);
        SpritesProcess.AssertCleanFailure(r, mentioned);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    private static List<RgbaImage> Sprites(string folder, int count) =>
        Enumerable.Range(0, count).Select(i => Png.Read(Path.Combine(folder, $"sprite_{i:D3}.png"))).ToList();

    private static IEnumerable<RgbColor> OpaqueColours(RgbaImage image)
    {
        for (int p = 0; p < image.Width * image.Height; p++)
            if (image.Pixels[p * 4 + 3] != 0) yield return new RgbColor(image.Pixels[p * 4], image.Pixels[p * 4 + 1], image.Pixels[p * 4 + 2]);
    }

    /// <summary>Each --each sprite (upscaled by its own --scale) against its frame in the sheet, read back through the atlas.</summary>
    private static void AssertSheetHolds(string sheetPath, IReadOnlyList<RgbaImage> eachAtScale4, int eachScale)
    {
        var sheet = Png.Read(sheetPath);
        var frames = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(sheetPath, ".json"))).RootElement.GetProperty("frames");
        for (int i = 0; i < eachAtScale4.Count; i++)
        {
            var f = frames.GetProperty($"sprite_{i:D3}").GetProperty("frame");
            int x = f.GetProperty("x").GetInt32(), y = f.GetProperty("y").GetInt32(), w = f.GetProperty("w").GetInt32();
            Assert.Equal(16, w);
            var each = eachAtScale4[i];
            for (int py = 0; py < 16; py++)
                for (int px = 0; px < 16; px++)
                    Assert.Equal(each.Pixels.AsSpan(((py * eachScale) * each.Width + px * eachScale) * 4, 4).ToArray(),
                        sheet.Pixels.AsSpan(((y + py) * sheet.Width + x + px) * 4, 4).ToArray());
        }
    }

    private sealed class NoObserver : ITrainingObserver;
}
