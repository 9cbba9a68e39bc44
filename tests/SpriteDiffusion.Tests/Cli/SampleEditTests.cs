using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Cli;

public class SampleEditTests
{
    private static void WriteSprite(string path, int size, ulong seed)
    {
        var pixels = new byte[size * size * 4];
        new Random((int)seed).NextBytes(pixels);
        for (int p = 3; p < pixels.Length; p += 4) pixels[p] = 255;
        Png.Write(path, new RgbaImage(size, size, pixels));
    }

    [Fact]
    public void StrengthOneWithNoiseIsPlainSampling()
    {
        using var dir = new TempDir();
        string ckpt = TestCheckpoints.Tiny(dir);
        WriteSprite(dir.File("s.png"), 16, 1);
        var noise = new float[3 * 3 * 16 * 16];
        new Rng(9).FillGaussian(noise);
        Npy.WriteFloat32(dir.File("noise.npy"), noise, [3, 3, 16, 16]);
        var plain = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", ckpt, "--steps", "4", "--noise", "noise.npy", "--out", "a.png", "--out-npy", "a.npy");
        Assert.True(plain.Code == 0, plain.Err);
        var edited = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", ckpt, "--steps", "4", "--noise", "noise.npy", "--out", "b.png", "--out-npy", "b.npy",
            "--init", "s.png", "--strength", "1");
        Assert.True(edited.Code == 0, edited.Err);
        Assert.Contains("strength 1", edited.Out);
        Assert.Equal(Npy.ReadFloat32(dir.File("a.npy"), out _), Npy.ReadFloat32(dir.File("b.npy"), out _));
    }

    [Fact]
    public void InpaintingKeepsEveryBlackPixelOfTheMaskAndVariationsComeFromAFolder()
    {
        using var dir = new TempDir();
        string ckpt = TestCheckpoints.Tiny(dir);
        Directory.CreateDirectory(dir.File("in"));
        WriteSprite(dir.File("in", "a.png"), 16, 2);
        // A 4x upscale, as sample --each writes.
        var small = new byte[16 * 16 * 4];
        new Random(3).NextBytes(small);
        for (int p = 3; p < small.Length; p += 4) small[p] = 255;
        Png.Write(dir.File("in", "b.png"), ImageGrid.Upscale(new RgbaImage(16, 16, small), 4));
        var maskPixels = new byte[16 * 16 * 4];
        for (int p = 0; p < 256; p++)
        {
            byte v = (p % 16) >= 8 ? (byte)255 : (byte)0;
            maskPixels[4 * p] = maskPixels[4 * p + 1] = maskPixels[4 * p + 2] = v;
            maskPixels[4 * p + 3] = 255;
        }
        Png.Write(dir.File("mask.png"), new RgbaImage(16, 16, maskPixels));
        var r = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", ckpt, "--method", "dpm++2m", "--steps", "5", "--init", "in", "--mask", "mask.png",
            "--resample", "2", "--n", "2", "--scale", "1", "--each", "each", "--out", "grid.png");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("inpainting mask.png with resample 2", r.Out);
        var inputs = new[] { Png.Read(dir.File("in", "a.png")).Pixels, small };
        for (int i = 0; i < 4; i++)
        {
            var output = Png.Read(dir.File("each", $"sprite_{i:D3}.png")).Pixels;
            var input = inputs[i / 2];
            int changed = 0;
            for (int p = 0; p < 256; p++)
                for (int c = 0; c < 3; c++)
                {
                    if (p % 16 < 8) Assert.Equal(input[4 * p + c], output[4 * p + c]);
                    else if (Math.Abs(input[4 * p + c] - output[4 * p + c]) > 8) changed++;
                }
            Assert.True(changed > 128, $"sprite {i}: only {changed} masked values changed");
        }
    }

    [Theory]
    [InlineData("--init missing.png", "missing.png")]
    [InlineData("--init ten.png", "16x16")]
    [InlineData("--init s.png --strength 0", "--strength")]
    [InlineData("--init s.png --strength 1.5", "--strength")]
    [InlineData("--init s.png --mask grey.png", "grey.png")]
    [InlineData("--init s.png --mask ten.png", "16x16")]
    [InlineData("--init s.png --mask nothere.png", "--mask")]
    [InlineData("--init s.png --mask-rect 1,2,3", "--mask-rect")]
    [InlineData("--init s.png --mask-rect 10,0,8,8", "--mask-rect")]
    [InlineData("--init s.png --resample 3", "--resample")]
    [InlineData("--init s.png --mask-rect 0,0,4,4 --resample 0", "--resample")]
    [InlineData("--strength 0.5", "--init")]
    [InlineData("--mask-rect 0,0,4,4", "--init")]
    [InlineData("--init s.png --per-class 2", "--per-class")]
    public void BadEditsFailCleanlyAndWriteNothing(string flags, string mentioned)
    {
        using var dir = new TempDir();
        string ckpt = TestCheckpoints.Tiny(dir);
        WriteSprite(dir.File("s.png"), 16, 4);
        WriteSprite(dir.File("ten.png"), 10, 5);
        var grey = new byte[16 * 16 * 4];
        Array.Fill(grey, (byte)128);
        Png.Write(dir.File("grey.png"), new RgbaImage(16, 16, grey));
        var args = new List<string> { "sample", "--checkpoint", ckpt, "--steps", "2", "--out", "out.png", "--each", "each" };
        args.AddRange(flags.Split(' '));
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, args.ToArray()), mentioned);
        Assert.False(File.Exists(dir.File("out.png")));
        Assert.False(Directory.Exists(dir.File("each")));
    }
}
