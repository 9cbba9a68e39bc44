using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Imaging;

public class PaletteMapperTests
{
    // Written out here rather than read from the mapper, so that a wrong matrix there fails.
    private static readonly int[,] Bayer =
    {
        { 0, 8, 2, 10 },
        { 12, 4, 14, 6 },
        { 3, 11, 1, 9 },
        { 15, 7, 13, 5 },
    };

    public static TheoryData<string, bool> EveryBuiltInWithAndWithoutDither()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in Palette.BuiltInNames)
        {
            data.Add(name, false);
            data.Add(name, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryBuiltInWithAndWithoutDither))]
    public void Every_visible_pixel_becomes_a_palette_colour_and_keeps_its_alpha(string paletteName, bool dither)
    {
        var palette = Palette.BuiltIn(paletteName);
        var allowed = palette.Colors.ToHashSet();
        for (int seed = 0; seed < 4; seed++)
        {
            var image = TestSprites.Random(16 + seed, 16 - seed, seed * 31 + paletteName.Length);
            var mapped = PaletteMapper.Apply(image, palette, dither);
            Assert.Equal((image.Width, image.Height), (mapped.Width, mapped.Height));
            for (int y = 0; y < image.Height; y++)
            {
                for (int x = 0; x < image.Width; x++)
                {
                    int i = (y * image.Width + x) * 4;
                    Assert.Equal(image.Pixels[i + 3], mapped.Pixels[i + 3]);
                    if (image.Pixels[i + 3] == 0)
                        Assert.Equal(image.Pixels.AsSpan(i, 4).ToArray(), mapped.Pixels.AsSpan(i, 4).ToArray());
                    else
                        Assert.Contains(TestSprites.ColorAt(mapped, x, y), allowed);
                }
            }
        }
    }

    [Fact]
    public void A_tiny_image_maps_to_the_known_Game_Boy_shades()
    {
        // (200, 40, 40) is nearest to #8bac0f in RGB but to #306230 in Oklab, where lightness
        // counts as the eye counts it: this pins the colour space, not just "some green".
        var image = new RgbaImage(3, 2,
        [
            0, 0, 0, 255,      255, 255, 255, 255,   200, 40, 40, 255,
            12, 34, 56, 0,     160, 160, 160, 128,   100, 100, 100, 255,
        ]);
        var mapped = PaletteMapper.Apply(image, Palette.BuiltIn("gameboy"), dither: false);
        Assert.Equal(
        [
            0x0f, 0x38, 0x0f, 255, 0x9b, 0xbc, 0x0f, 255, 0x30, 0x62, 0x30, 255,
            12, 34, 56, 0,         0x8b, 0xac, 0x0f, 128, 0x30, 0x62, 0x30, 255,
        ], mapped.Pixels);
        Assert.Equal([0, 0, 0, 255], image.Pixels[..4]); // the input is left alone
    }

    [Theory]
    [InlineData(0x306230u, 0x8BAC0Fu, 0.5, 8)]
    [InlineData(0x306230u, 0x8BAC0Fu, 0.25, 4)]
    [InlineData(0x000000u, 0xFFFFFFu, 0.5, 8)]
    [InlineData(0x0F380Fu, 0x306230u, 0.125, 2)]
    public void A_flat_mix_of_two_palette_colours_dithers_into_the_Bayer_pattern(uint first, uint second, double share, int cellsOfSecond)
    {
        var c1 = RgbColor.FromHex(first);
        var c2 = RgbColor.FromHex(second);
        var l1 = Oklab.FromSrgb(c1);
        var l2 = Oklab.FromSrgb(c2);
        var mix = Oklab.ToSrgb(new OklabColor(
            l1.L + share * (l2.L - l1.L), l1.A + share * (l2.A - l1.A), l1.B + share * (l2.B - l1.B)));

        var gameBoy = Palette.BuiltIn("gameboy");
        var palettes = new List<Palette> { new("two", [c1, c2]) };
        if (gameBoy.Colors.Contains(c1) && gameBoy.Colors.Contains(c2)) palettes.Add(gameBoy);
        foreach (var palette in palettes)
        {
            var mapped = PaletteMapper.Apply(TestSprites.Flat(8, 8, mix), palette, dither: true);
            // The colour the mix is nearer to fills the cells whose Bayer index is at least k; the
            // other takes the k cells below (k = 16 x share), the same in every 4x4 tile.
            var minority = share < 0.5 ? c2 : TestSprites.ColorAt(mapped, 0, 0);
            var majority = minority == c1 ? c2 : c1;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                    Assert.Equal(Bayer[y % 4, x % 4] < cellsOfSecond ? minority : majority, TestSprites.ColorAt(mapped, x, y));
        }
    }

    [Fact]
    public void Without_dither_the_same_flat_mix_is_one_colour()
    {
        var mix = new RgbColor(0x60, 0x88, 0x20);
        var mapped = PaletteMapper.Apply(TestSprites.Flat(4, 4, mix), Palette.BuiltIn("gameboy"), dither: false);
        Assert.Single(TestSprites.VisibleColors(mapped));
    }

    [Fact]
    public void Pixels_already_in_the_palette_never_change_even_when_dithering()
    {
        var palette = Palette.BuiltIn("endesga-32");
        var random = new Random(3);
        var pixels = new byte[12 * 9 * 4];
        for (int i = 0; i < 12 * 9; i++)
        {
            var c = palette.Colors[random.Next(palette.Colors.Count)];
            (pixels[4 * i], pixels[4 * i + 1], pixels[4 * i + 2], pixels[4 * i + 3]) = (c.R, c.G, c.B, (byte)random.Next(1, 256));
        }
        var image = new RgbaImage(12, 9, pixels);
        Assert.Equal(image.Pixels, PaletteMapper.Apply(image, palette, dither: true).Pixels);
        Assert.Equal(image.Pixels, PaletteMapper.Apply(image, palette, dither: false).Pixels);
    }

    [Fact]
    public void A_malformed_image_is_an_argument_error()
    {
        var broken = new RgbaImage(4, 4, new byte[10]);
        var error = Assert.Throws<ArgumentException>(() => PaletteMapper.Apply(broken, Palette.BuiltIn("cga"), false));
        Assert.Equal("image", error.ParamName);
        Assert.Contains("64", error.Message);
    }
}
