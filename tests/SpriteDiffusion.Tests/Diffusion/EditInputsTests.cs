using SpriteDiffusion.Generation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Diffusion;

public class EditInputsTests
{
    private static RgbaImage Picture(int size, Func<int, int, (byte R, byte G, byte B, byte A)> colour)
    {
        var pixels = new byte[size * size * 4];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                var (r, g, b, a) = colour(x, y);
                pixels[4 * (y * size + x)] = r; pixels[4 * (y * size + x) + 1] = g; pixels[4 * (y * size + x) + 2] = b; pixels[4 * (y * size + x) + 3] = a;
            }
        return new RgbaImage(size, size, pixels);
    }

    private static (byte, byte, byte, byte) Noise(int x, int y) => ((byte)(x * 37 + y * 11), (byte)(x * y * 7), (byte)(255 - x * 13), 255);

    [Fact]
    public void ASpriteReadsAtOneXAndFromAWholeNumberUpscale()
    {
        var small = Picture(16, Noise);
        var values = EditInputs.FromImage(small, 16, 3, "s.png");
        Assert.Equal(SpritePixels.ToValue(small.Pixels[4 * (5 * 16 + 3) + 1]), values[256 + 5 * 16 + 3]);
        var big = Picture(48, (x, y) => Noise(x / 3, y / 3));
        Assert.Equal(values, EditInputs.FromImage(big, 16, 3, "big.png"));

        var notUpscaled = Picture(48, Noise);
        Assert.Contains("nearest-neighbour upscale", Assert.Throws<InvalidDataException>(() => EditInputs.FromImage(notUpscaled, 16, 3, "n.png")).Message);
        var wrong = Assert.Throws<InvalidDataException>(() => EditInputs.FromImage(Picture(10, Noise), 16, 3, "ten.png"));
        Assert.Contains("ten.png", wrong.Message);
        Assert.Contains("16x16", wrong.Message);
    }

    [Fact]
    public void TransparencyIsCompositedOntoWhiteForRgbAndKeptForRgbaModels()
    {
        var image = Picture(4, (x, y) => x == 0 ? ((byte)0, (byte)0, (byte)0, (byte)0) : x == 1 ? ((byte)0, (byte)0, (byte)0, (byte)128) : ((byte)10, (byte)20, (byte)30, (byte)255));
        var rgb = EditInputs.FromImage(image, 4, 3, "a.png");
        Assert.Equal(1f, rgb[0]); // transparent: white
        Assert.Equal(SpritePixels.ToValue(127), rgb[1]); // half black over white
        Assert.Equal(SpritePixels.ToValue(10), rgb[2]);
        var rgba = EditInputs.FromImage(image, 4, 4, "a.png");
        Assert.Equal(1f, rgba[0]);
        Assert.Equal(-1f, rgba[3 * 16]); // alpha 0
        Assert.Equal(SpritePixels.ToValue(0), rgba[1]); // straight alpha keeps the colour
    }

    [Fact]
    public void MasksAreBlackAndWhiteAtTheSpritesSize()
    {
        var mask = EditInputs.MaskFromImage(Picture(8, (x, y) => x < 3 ? ((byte)255, (byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0, (byte)255)), 8, "m.png");
        Assert.Equal(3 * 8, mask.Sum());
        Assert.Equal(1f, mask[2]);
        Assert.Equal(0f, mask[3]);
        var grey = Assert.Throws<InvalidDataException>(() => EditInputs.MaskFromImage(Picture(8, (x, y) => ((byte)128, (byte)128, (byte)128, (byte)255)), 8, "grey.png"));
        Assert.Contains("grey.png", grey.Message);
        Assert.Contains("black (keep) and white (regenerate)", grey.Message);
        Assert.Contains("mask", Assert.Throws<InvalidDataException>(() => EditInputs.MaskFromImage(Picture(12, Noise), 8, "m.png")).Message);

        var rect = EditInputs.RectangleMask(1, 2, 3, 4, 8);
        Assert.Equal(12, rect.Sum());
        Assert.Equal(1f, rect[2 * 8 + 1]);
        Assert.Equal(0f, rect[2 * 8 + 4]);
        Assert.Equal(0f, rect[6 * 8 + 1]);
    }

    [Fact]
    public void BuildRepeatsEachSpriteAndItsMaskOverChannels()
    {
        float[] a = [.. Enumerable.Range(0, 12).Select(i => i / 12f)], b = [.. Enumerable.Range(0, 12).Select(i => -i / 12f)];
        var edit = EditInputs.Build([a, b], 2, [1, 0, 0, 1], 0.4, 2);
        Assert.Equal(48, edit.Images.Length);
        Assert.Equal(a, edit.Images[12..24]);
        Assert.Equal(b, edit.Images[24..36]);
        Assert.Equal(new float[] { 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1 }, edit.Mask![36..]);
        Assert.Equal(0.4, edit.Strength);
        Assert.Equal(2, edit.Resample);
    }

    [Fact]
    public void ThePublicApiInpaintsAndVariesStartingSprites()
    {
        using var dir = new TempDir();
        var model = SpriteModel.Load(TestCheckpoints.Tiny(dir));
        var sprite = Picture(16, Noise);
        var mask = Picture(16, (x, y) => y < 6 ? ((byte)255, (byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0, (byte)255));
        var progress = new List<GenerationProgress>();
        var sprites = model.Generate(new GenerationOptions { Count = 2, Steps = 6, Init = [sprite, sprite], Mask = mask, Resample = 2 },
            new Progress<GenerationProgress>(progress.Add));
        Assert.Equal(4, sprites.Count);
        foreach (var s in sprites)
            for (int p = 6 * 16 * 4; p < s.Image.Pixels.Length; p++) Assert.Equal(sprite.Pixels[p], s.Image.Pixels[p]);
        Assert.NotEqual(sprite.Pixels[..(6 * 16 * 4)], sprites[0].Image.Pixels[..(6 * 16 * 4)]);

        var variations = model.Generate(new GenerationOptions { Count = 3, Steps = 10, Init = [sprite], Strength = 0.3 });
        Assert.Equal(3, variations.Count);
        Assert.Throws<ArgumentException>(() => model.Generate(new GenerationOptions { Strength = 0.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate(new GenerationOptions { Init = [sprite], Strength = 0 }));
    }
}
