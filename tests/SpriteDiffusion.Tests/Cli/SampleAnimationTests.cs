using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Tests.IO;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Tests.Cli;

/// <summary>`sample --animate` and `sample --interpolate`, run on the bundled pretrained model so that the sprites are real.</summary>
public class SampleAnimationTests
{
    private static readonly string Pretrained = PretrainedModel.DefaultPath;

    private static (int Code, string Out, string Err) Sample(TempDir dir, params string[] args) =>
        SpritesProcess.Run(dir.Path, ["sample", "--checkpoint", Pretrained, .. args]);

    /// <summary>The 64x64 cell of sprite (row, column) in a grid written at scale 4 with 1-pixel gaps.</summary>
    private static byte[] Cell(RgbaImage grid, int row, int column)
    {
        const int cell = 16 * 4;
        var pixels = new byte[cell * cell * 4];
        for (int y = 0; y < cell; y++)
            grid.Pixels.AsSpan(((1 + row * (cell + 1) + y) * grid.Width + 1 + column * (cell + 1)) * 4, cell * 4)
                .CopyTo(pixels.AsSpan(y * cell * 4));
        return pixels;
    }

    [Fact]
    public void Animate_writes_the_still_grid_and_an_apng_that_ends_on_it()
    {
        using var dir = new TempDir();
        var r = Sample(dir, "--animate", "anim.png", "--frames", "5", "--steps", "10", "--n", "4", "--seed", "2", "--out", "grid.png");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("grid.png", r.Out);
        Assert.Contains("anim.png", r.Out);

        var grid = Png.Read(dir.File("grid.png"));
        var apng = ApngFile.Read(dir.File("anim.png"));
        Assert.Equal(5, apng.Frames.Count);
        Assert.Equal((grid.Width, grid.Height), (apng.Width, apng.Height));
        Assert.Equal(grid.Pixels, apng.DecodeFrame(4).Pixels);
        Assert.Equal(DenoisingAnimation.FinalHoldMs, apng.Frames[4].DelayMs);
        Assert.Equal(DenoisingAnimation.MaxDelayMs, apng.Frames[0].DelayMs);
        var firstAsPng = Png.Read(dir.File("anim.png"));
        Assert.Equal(apng.DecodeFrame(0).Pixels, firstAsPng.Pixels);
        Assert.NotEqual(grid.Pixels, firstAsPng.Pixels);
    }

    [Fact]
    public void Interpolate_writes_one_row_whose_ends_are_the_two_seeds_sprites()
    {
        using var dir = new TempDir();
        var row = Sample(dir, "--interpolate", "--n", "5", "--steps", "10", "--seed", "3", "--seed2", "11", "--out", "row.png",
            "--animate", "row_anim.png", "--frames", "2");
        Assert.True(row.Code == 0, row.Err);
        Assert.Contains("row.png", row.Out);
        foreach (var (seed, name) in new[] { ("3", "a.png"), ("11", "b.png") })
        {
            var one = Sample(dir, "--n", "1", "--steps", "10", "--seed", seed, "--out", name);
            Assert.True(one.Code == 0, one.Err);
        }

        var strip = Png.Read(dir.File("row.png"));
        Assert.Equal((5 * 64 + 6, 64 + 2), (strip.Width, strip.Height));
        var first = Cell(Png.Read(dir.File("a.png")), 0, 0);
        var last = Cell(Png.Read(dir.File("b.png")), 0, 0);
        Assert.Equal(first, Cell(strip, 0, 0));
        Assert.Equal(last, Cell(strip, 0, 4));
        Assert.NotEqual(first, last);
        Assert.NotEqual(first, Cell(strip, 0, 2));
        Assert.NotEqual(last, Cell(strip, 0, 2));

        var animation = ApngFile.Read(dir.File("row_anim.png"));
        Assert.Equal(strip.Pixels, animation.DecodeFrame(1).Pixels);
    }

    [Theory]
    [InlineData("--animate anim.png --frames 0", "--frames")]
    [InlineData("--frames 3", "--animate")]
    [InlineData("--animate anim.gif", ".png or .apng")]
    [InlineData("--animate out.png", "--out")]
    [InlineData("--animate anim.png --steps 10 --frames 11", "--frames")]
    [InlineData("--interpolate --noise noise.npy", "--noise")]
    [InlineData("--interpolate --method ddpm", "--method ddpm")]
    [InlineData("--interpolate --eta 0.5", "--eta")]
    [InlineData("--interpolate --n 1", "--n")]
    [InlineData("--interpolate --seed 4 --seed2 4", "--seed2")]
    [InlineData("--seed2 4", "--interpolate")]
    public void Impossible_animation_and_interpolation_flags_fail_cleanly_and_write_nothing(string flags, string mentioned)
    {
        using var dir = new TempDir();
        string ckpt = TestCheckpoints.Tiny(dir);
        SpritesProcess.AssertCleanFailure(
            SpritesProcess.Run(dir.Path, ["sample", "--checkpoint", ckpt, "--out", "out.png", .. flags.Split(' ')]), mentioned);
        Assert.Equal([ckpt], Directory.GetFiles(dir.Path));
    }
}
