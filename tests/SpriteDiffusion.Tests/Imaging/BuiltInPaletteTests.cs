using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Imaging;

public class BuiltInPaletteTests
{
    private static RgbColor Hex(uint value) => RgbColor.FromHex(value);

    [Theory]
    [InlineData("pico-8", "pico-8", 16)]
    [InlineData("PICO8", "pico-8", 16)]
    [InlineData("gameboy", "gameboy", 4)]
    [InlineData("Game-Boy", "gameboy", 4)]
    [InlineData("nes", "nes", 54)]
    [InlineData("NES", "nes", 54)]
    [InlineData("cga", "cga", 16)]
    [InlineData("endesga-32", "endesga-32", 32)]
    [InlineData("Endesga32", "endesga-32", 32)]
    public void Names_match_case_and_dash_insensitively(string asked, string canonical, int colors)
    {
        var palette = Palette.BuiltIn(asked);
        Assert.Equal(canonical, palette.Name);
        Assert.Equal(colors, palette.Colors.Count);
        Assert.Equal(colors, palette.Colors.Distinct().Count());
    }

    [Fact]
    public void Every_listed_name_resolves()
    {
        Assert.Equal(["pico-8", "gameboy", "nes", "cga", "endesga-32"], Palette.BuiltInNames);
        foreach (var name in Palette.BuiltInNames) Assert.Equal(name, Palette.BuiltIn(name).Name);
    }

    [Fact]
    public void Colours_are_the_published_ones()
    {
        Assert.Equal([Hex(0x0F380F), Hex(0x306230), Hex(0x8BAC0F), Hex(0x9BBC0F)], Palette.BuiltIn("gameboy").Colors);

        var pico = Palette.BuiltIn("pico-8").Colors;
        Assert.Equal(Hex(0x000000), pico[0]);
        Assert.Equal(Hex(0x1D2B53), pico[1]);
        Assert.Equal(Hex(0xFF004D), pico[8]);
        Assert.Equal(Hex(0xFFCCAA), pico[15]);

        var cga = Palette.BuiltIn("cga").Colors;
        Assert.Equal(Hex(0xAA5500), cga[6]); // brown, not dark yellow
        Assert.Equal(Hex(0x5555FF), cga[9]);
        Assert.Equal(Hex(0xFFFFFF), cga[15]);

        var endesga = Palette.BuiltIn("endesga-32").Colors;
        Assert.Equal(Hex(0xBE4A2F), endesga[0]);
        Assert.Equal(Hex(0x0099DB), endesga[17]);
        Assert.Equal(Hex(0xC28569), endesga[31]);

        // NES: $00, then $0D (the first black), then $10 as the 14th distinct colour, and $20 white.
        var nes = Palette.BuiltIn("nes").Colors;
        Assert.Equal(Hex(0x545454), nes[0]);
        Assert.Equal(Hex(0x000000), nes[13]);
        Assert.Equal(Hex(0x989698), nes[14]);
        Assert.Contains(Hex(0xECEEEC), nes);
        Assert.Equal(Hex(0xA0A2A0), nes[^1]);
    }

    [Fact]
    public void An_unknown_name_is_an_error_that_lists_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => Palette.BuiltIn("sega"));
        Assert.Equal("name", error.ParamName);
        Assert.Contains("'sega'", error.Message);
        foreach (var name in Palette.BuiltInNames) Assert.Contains(name, error.Message);
    }

    [Fact]
    public void FromNameOrFile_takes_names_and_rejects_what_is_neither()
    {
        Assert.Equal("cga", Palette.FromNameOrFile("CGA").Name);
        var error = Assert.Throws<ArgumentException>(() => Palette.FromNameOrFile("c64"));
        Assert.Contains("pico-8", error.Message);
        Assert.Contains(".gpl", error.Message);
    }

    [Fact]
    public void A_palette_keeps_each_colour_once_in_first_seen_order()
    {
        var palette = new Palette("mine", [Hex(0x112233), Hex(0x000000), Hex(0x112233), Hex(0xFFFFFF)]);
        Assert.Equal([Hex(0x112233), Hex(0x000000), Hex(0xFFFFFF)], palette.Colors);
    }

    [Fact]
    public void A_palette_needs_one_to_256_colours_and_a_name()
    {
        Assert.Throws<ArgumentException>(() => new Palette("empty", []));
        var tooMany = Enumerable.Range(0, 257).Select(i => RgbColor.FromHex((uint)i));
        Assert.Contains("257", Assert.Throws<ArgumentException>(() => new Palette("big", tooMany)).Message);
        Assert.Equal(256, new Palette("full", Enumerable.Range(0, 256).Select(i => RgbColor.FromHex((uint)i))).Colors.Count);
        Assert.Throws<ArgumentException>(() => new Palette(" ", [Hex(0)]));
    }

    [Fact]
    public void Every_palette_colour_is_its_own_nearest_colour()
    {
        foreach (var name in Palette.BuiltInNames)
        {
            var palette = Palette.BuiltIn(name);
            for (int i = 0; i < palette.Colors.Count; i++)
                Assert.Equal(i, palette.IndexOfNearest(Oklab.FromSrgb(palette.Colors[i])));
        }
    }
}
