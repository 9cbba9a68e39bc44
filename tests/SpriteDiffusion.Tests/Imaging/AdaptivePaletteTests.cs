using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Imaging;

public class AdaptivePaletteTests
{
    /// <summary>A sprite drawn from <paramref name="distinct"/> random colours, with transparent pixels in other colours.</summary>
    private static RgbaImage FewColours(int distinct, int seed)
    {
        var random = new Random(seed);
        var colors = Enumerable.Range(0, distinct).Select(_ => RgbColor.FromHex((uint)random.Next(1 << 24))).ToArray();
        var pixels = new byte[16 * 16 * 4];
        for (int i = 0; i < 256; i++)
        {
            var c = colors[i < distinct ? i : random.Next(distinct)]; // every colour appears at least once
            bool hidden = i >= distinct && random.Next(5) == 0;
            pixels[4 * i] = hidden ? (byte)random.Next(256) : c.R;
            pixels[4 * i + 1] = hidden ? (byte)random.Next(256) : c.G;
            pixels[4 * i + 2] = hidden ? (byte)random.Next(256) : c.B;
            pixels[4 * i + 3] = hidden ? (byte)0 : (byte)random.Next(1, 256);
        }
        return new RgbaImage(16, 16, pixels);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 5)]
    [InlineData(5, 16)]
    [InlineData(40, 64)]
    public void With_at_least_as_many_slots_as_colours_the_palette_is_those_colours_and_mapping_is_lossless(int distinct, int k)
    {
        var sprite = FewColours(distinct, seed: distinct * 7 + k);
        var palette = Palette.Adaptive(sprite, k);
        Assert.Equal(TestSprites.VisibleColors(sprite), palette.Colors.ToHashSet());
        Assert.Equal(distinct, palette.Colors.Count);
        Assert.Equal(sprite.Pixels, PaletteMapper.Apply(sprite, palette, dither: false).Pixels);
        Assert.Equal(sprite.Pixels, PaletteMapper.Apply(sprite, palette, dither: true).Pixels);
    }

    [Fact]
    public void Colours_come_dark_to_light()
    {
        var palette = Palette.Adaptive(FewColours(30, 4), 8);
        var lightness = palette.Colors.Select(c => Oklab.FromSrgb(c).L).ToArray();
        Assert.Equal(lightness.Order(), lightness);
    }

    [Fact]
    public void A_shared_palette_is_fitted_over_the_whole_batch_and_is_the_same_every_run()
    {
        var sprites = Enumerable.Range(0, 20).Select(i => TestSprites.Random(16, 16, 100 + i)).ToArray();
        var first = Palette.Adaptive(sprites, 12);
        var second = Palette.Adaptive(sprites.Select(s => s with { Pixels = (byte[])s.Pixels.Clone() }).ToList(), 12);
        Assert.Equal(12, first.Colors.Count);
        Assert.Equal(first.Colors, second.Colors);
        Assert.Equal("adaptive-12", first.Name);
        foreach (var sprite in sprites)
        {
            var mapped = PaletteMapper.Apply(sprite, first, dither: false);
            Assert.Subset(first.Colors.ToHashSet(), TestSprites.VisibleColors(mapped));
        }
    }

    [Fact]
    public void Three_clusters_of_colours_get_one_palette_colour_each()
    {
        // Reds, greens and blues, each jittered by up to 12 per channel; transparent pixels hold
        // yellow, which must not pull a centre towards it.
        RgbColor[] centres = [new(200, 40, 40), new(40, 180, 60), new(50, 60, 200)];
        var random = new Random(11);
        var pixels = new byte[32 * 32 * 4];
        for (int i = 0; i < 32 * 32; i++)
        {
            var c = centres[i % 3];
            bool hidden = i % 7 == 0;
            pixels[4 * i] = hidden ? (byte)250 : (byte)(c.R + random.Next(-12, 13));
            pixels[4 * i + 1] = hidden ? (byte)250 : (byte)(c.G + random.Next(-12, 13));
            pixels[4 * i + 2] = hidden ? (byte)0 : (byte)(c.B + random.Next(-12, 13));
            pixels[4 * i + 3] = hidden ? (byte)0 : (byte)255;
        }
        var palette = Palette.Adaptive(new RgbaImage(32, 32, pixels), 3);
        Assert.Equal(3, palette.Colors.Count);
        foreach (var centre in centres)
        {
            var lab = Oklab.FromSrgb(centre);
            Assert.Single(palette.Colors, c => Math.Sqrt(Oklab.FromSrgb(c).DistanceSquared(lab)) < 0.03);
        }
    }

    [Fact]
    public void Bad_arguments_are_reported()
    {
        var sprite = FewColours(3, 1);
        Assert.Equal("colors", Assert.Throws<ArgumentOutOfRangeException>(() => Palette.Adaptive(sprite, 0)).ParamName);
        Assert.Equal("colors", Assert.Throws<ArgumentOutOfRangeException>(() => Palette.Adaptive(sprite, 257)).ParamName);
        Assert.Contains("no sprites", Assert.Throws<ArgumentException>(() => Palette.Adaptive(Array.Empty<RgbaImage>(), 4)).Message);
        var invisible = TestSprites.Flat(4, 4, new RgbColor(9, 9, 9), alpha: 0);
        Assert.Contains("transparent", Assert.Throws<ArgumentException>(() => Palette.Adaptive(invisible, 4)).Message);
        Assert.Throws<ArgumentException>(() => Palette.Adaptive([sprite, new RgbaImage(2, 2, new byte[3])], 4));
    }
}
