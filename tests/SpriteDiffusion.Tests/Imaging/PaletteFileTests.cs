using System.Text;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Imaging;

public class PaletteFileTests
{
    private static RgbColor Hex(uint value) => RgbColor.FromHex(value);

    private static string WriteText(TempDir dir, string fileName, string text)
    {
        string path = dir.File(fileName);
        File.WriteAllText(path, text);
        return path;
    }

    private static InvalidDataException BadFile(string path)
    {
        var error = Assert.Throws<InvalidDataException>(() => Palette.Load(path));
        Assert.Contains(path, error.Message);
        return error;
    }

    [Fact]
    public void A_hex_file_gives_its_colours_in_order()
    {
        using var dir = new TempDir();
        string path = WriteText(dir, "dawn.hex", "1d2b53\r\n#FF004D\n\n  ffccaa  \n1D2B53\n");
        var palette = Palette.Load(path);
        Assert.Equal("dawn", palette.Name);
        Assert.Equal([Hex(0x1D2B53), Hex(0xFF004D), Hex(0xFFCCAA)], palette.Colors);
        Assert.Equal(palette.Colors, Palette.FromNameOrFile(path).Colors);
    }

    [Fact]
    public void A_gimp_palette_gives_its_colours_and_name()
    {
        using var dir = new TempDir();
        string path = WriteText(dir, "file-name.gpl",
            "GIMP Palette\nName: Sweetie 16\nColumns: 8\n#\n# a comment\n 26  28  44\tblack\n93 39 93 purple\n\n177  62  83\n");
        var palette = Palette.Load(path);
        Assert.Equal("Sweetie 16", palette.Name);
        Assert.Equal([new RgbColor(26, 28, 44), new RgbColor(93, 39, 93), new RgbColor(177, 62, 83)], palette.Colors);
    }

    [Fact]
    public void A_png_gives_its_distinct_opaque_pixels_in_reading_order()
    {
        using var dir = new TempDir();
        var image = new RgbaImage(3, 2,
        [
            10, 20, 30, 255,   1, 2, 3, 0,        200, 100, 50, 255,
            10, 20, 30, 255,   7, 7, 7, 128,      0, 0, 0, 255,
        ]);
        string path = dir.File("swatch.png");
        File.WriteAllBytes(path, Png.Encode(image));
        var palette = Palette.Load(path);
        Assert.Equal("swatch", palette.Name);
        Assert.Equal([new RgbColor(10, 20, 30), new RgbColor(200, 100, 50), new RgbColor(0, 0, 0)], palette.Colors);
    }

    [Fact]
    public void Empty_files_are_errors_that_name_the_file()
    {
        using var dir = new TempDir();
        Assert.Contains("empty", BadFile(WriteText(dir, "nothing.hex", "")).Message);
        Assert.Contains("no colour", BadFile(WriteText(dir, "blank.hex", "\n  \n\n")).Message);
        Assert.Contains("no colour", BadFile(WriteText(dir, "header-only.gpl", "GIMP Palette\nName: x\n")).Message);
        string png = dir.File("clear.png");
        File.WriteAllBytes(png, Png.Encode(TestSprites.Flat(2, 2, new RgbColor(1, 2, 3), alpha: 0)));
        Assert.Contains("opaque", BadFile(png).Message);
    }

    [Fact]
    public void Malformed_lines_are_errors_that_name_the_file_and_line()
    {
        using var dir = new TempDir();
        Assert.Contains("line 3", BadFile(WriteText(dir, "typo.hex", "000000\nffffff\n12345g\n")).Message);
        Assert.Contains("line 2", BadFile(WriteText(dir, "short.hex", "000000\n#fff\n")).Message);
        Assert.Contains("line 1", BadFile(WriteText(dir, "headless.gpl", "0 0 0 black\n")).Message);
        Assert.Contains("line 4", BadFile(WriteText(dir, "range.gpl", "GIMP Palette\nName: r\n10 20 30\n300 0 0 too red\n")).Message);
        Assert.Contains("line 3", BadFile(WriteText(dir, "two.gpl", "GIMP Palette\n#\n10 20\n")).Message);
        string notPng = WriteText(dir, "text.png", "this is not an image");
        Assert.Contains("PNG", BadFile(notPng).Message);
    }

    [Fact]
    public void More_than_256_colours_is_an_error_at_the_line_of_the_257th()
    {
        using var dir = new TempDir();
        var text = new StringBuilder("\n"); // a leading blank line: line numbers are not colour numbers
        for (int i = 0; i < 300; i++) text.Append($"{i:x6}\n");
        string hex = WriteText(dir, "many.hex", text.ToString());
        Assert.Contains("line 258", BadFile(hex).Message);

        var gpl = new StringBuilder("GIMP Palette\n");
        for (int i = 0; i < 257; i++) gpl.Append($"{i % 256} {i / 256} 0\n");
        Assert.Contains("line 258", BadFile(WriteText(dir, "many.gpl", gpl.ToString())).Message);

        var pixels = new byte[20 * 20 * 4];
        for (int i = 0; i < 400; i++) (pixels[4 * i], pixels[4 * i + 1], pixels[4 * i + 3]) = ((byte)i, (byte)(i >> 8), 255);
        string png = dir.File("many.png");
        File.WriteAllBytes(png, Png.Encode(new RgbaImage(20, 20, pixels)));
        Assert.Contains("pixel (16, 12)", BadFile(png).Message); // the 257th pixel, index 256
    }

    [Fact]
    public void Repeated_colours_do_not_count_towards_the_limit()
    {
        using var dir = new TempDir();
        var text = new StringBuilder();
        for (int i = 0; i < 1000; i++) text.Append($"{i % 256:x6}\n");
        Assert.Equal(256, Palette.Load(WriteText(dir, "repeats.hex", text.ToString())).Colors.Count);
    }

    [Fact]
    public void A_file_over_1_MiB_is_refused_before_it_is_read()
    {
        using var dir = new TempDir();
        string path = WriteText(dir, "huge.hex", string.Concat(Enumerable.Repeat("000000\n", 160_000)));
        Assert.Contains("1 MiB", BadFile(path).Message);
    }

    [Fact]
    public void Missing_files_and_unknown_extensions_are_reported()
    {
        using var dir = new TempDir();
        string missing = dir.File("nope.gpl");
        var notFound = Assert.Throws<FileNotFoundException>(() => Palette.Load(missing));
        Assert.Equal(missing, notFound.FileName);
        Assert.Contains(missing, notFound.Message);

        string act = WriteText(dir, "photoshop.act", "whatever");
        var wrongType = Assert.Throws<ArgumentException>(() => Palette.Load(act));
        Assert.Equal("path", wrongType.ParamName);
        Assert.Contains(act, wrongType.Message);
    }
}
