using System.Text.Json;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Imaging;

public class SpriteSheetTests
{
    private static NamedSprite[] RandomSprites(int count, int width = 16, int height = 16, int seed = 0) =>
        Enumerable.Range(0, count)
            .Select(i => new NamedSprite(Name(i), TestSprites.Random(width, height, seed * 1000 + i)))
            .ToArray();

    // Names a CLI will produce, plus characters JSON must escape.
    private static string Name(int i) => (i % 4) switch
    {
        0 => $"Smileys & Emotion_{i:000}",
        1 => $"say \"hi\" \\ {i}",
        2 => $"Café ☕ {i}",
        _ => $"plain_{i}",
    };

    /// <summary>Checks each named frame of the written sheet against its sprite, pixel for pixel.</summary>
    private static void AssertFramesMatchSprites(RgbaImage sheet, IReadOnlyDictionary<string, JsonElement> frames, NamedSprite[] sprites, int scale)
    {
        Assert.Equal(sprites.Length, frames.Count);
        foreach (var sprite in sprites)
        {
            var frame = frames[sprite.Name].GetProperty("frame");
            int fx = frame.GetProperty("x").GetInt32(), fy = frame.GetProperty("y").GetInt32();
            Assert.Equal(sprite.Image.Width * scale, frame.GetProperty("w").GetInt32());
            Assert.Equal(sprite.Image.Height * scale, frame.GetProperty("h").GetInt32());
            for (int y = 0; y < sprite.Image.Height * scale; y++)
            {
                for (int x = 0; x < sprite.Image.Width * scale; x++)
                {
                    int s = ((y / scale) * sprite.Image.Width + x / scale) * 4;
                    int t = ((fy + y) * sheet.Width + fx + x) * 4;
                    byte alpha = sprite.Image.Pixels[s + 3];
                    Assert.Equal(alpha, sheet.Pixels[t + 3]);
                    // Colour under alpha 0 is invisible, and PNG encoders may drop it.
                    if (alpha != 0)
                        Assert.Equal(sprite.Image.Pixels.AsSpan(s, 3).ToArray(), sheet.Pixels.AsSpan(t, 3).ToArray());
                }
            }
        }
    }

    [Theory]
    [InlineData(7, 1, null, 3, 3)]
    [InlineData(37, 3, null, 7, 6)]
    [InlineData(1, 2, null, 1, 1)]
    [InlineData(5, 1, 2, 2, 3)]
    [InlineData(3, 1, 5, 5, 1)]
    public void The_written_atlas_locates_every_sprite_in_the_written_sheet(int count, int scale, int? columns, int expectedColumns, int expectedRows)
    {
        using var dir = new TempDir();
        var sprites = RandomSprites(count, seed: count + scale);
        var sheet = SpriteSheet.Pack(sprites, scale, columns);
        Assert.Equal((expectedColumns, expectedRows), (sheet.Columns, sheet.Rows));

        string pngPath = dir.File("sheet.png");
        string atlasPath = sheet.Write(pngPath, AtlasFormat.TexturePackerHash);
        Assert.Equal(dir.File("sheet.json"), atlasPath);
        var decoded = Png.Read(pngPath);
        Assert.Equal((expectedColumns * 16 * scale, expectedRows * 16 * scale), (decoded.Width, decoded.Height));

        using var atlas = JsonDocument.Parse(File.ReadAllText(atlasPath));
        var frames = atlas.RootElement.GetProperty("frames").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        AssertFramesMatchSprites(decoded, frames, sprites, scale);

        var meta = atlas.RootElement.GetProperty("meta");
        Assert.Equal("sheet.png", meta.GetProperty("image").GetString());
        Assert.Equal("RGBA8888", meta.GetProperty("format").GetString());
        Assert.Equal("1", meta.GetProperty("scale").GetString());
        Assert.Equal(decoded.Width, meta.GetProperty("size").GetProperty("w").GetInt32());
        Assert.Equal(decoded.Height, meta.GetProperty("size").GetProperty("h").GetInt32());

        // Cells past the last sprite are empty.
        for (int cell = count; cell < sheet.Columns * sheet.Rows; cell++)
        {
            int x0 = cell % sheet.Columns * 16 * scale, y0 = cell / sheet.Columns * 16 * scale;
            for (int y = 0; y < 16 * scale; y++)
                for (int x = 0; x < 16 * scale; x++)
                    Assert.Equal(0, TestSprites.AlphaAt(decoded, x0 + x, y0 + y));
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Frames_have_TexturePackers_fields_for_an_untrimmed_unrotated_sprite()
    {
        var sheet = SpriteSheet.Pack(RandomSprites(2, 5, 3), scale: 2);
        using var atlas = JsonDocument.Parse(sheet.ToAtlasJson(AtlasFormat.TexturePackerHash, "s.png"));
        var frame = atlas.RootElement.GetProperty("frames").GetProperty(Name(1));
        Assert.Equal(["frame", "rotated", "trimmed", "spriteSourceSize", "sourceSize"], frame.EnumerateObject().Select(p => p.Name));
        Assert.Equal(10, frame.GetProperty("frame").GetProperty("x").GetInt32());
        Assert.False(frame.GetProperty("rotated").GetBoolean());
        Assert.False(frame.GetProperty("trimmed").GetBoolean());
        var source = frame.GetProperty("spriteSourceSize");
        Assert.Equal((0, 0, 10, 6), (source.GetProperty("x").GetInt32(), source.GetProperty("y").GetInt32(), source.GetProperty("w").GetInt32(), source.GetProperty("h").GetInt32()));
        Assert.Equal((10, 6), (frame.GetProperty("sourceSize").GetProperty("w").GetInt32(), frame.GetProperty("sourceSize").GetProperty("h").GetInt32()));
        Assert.False(atlas.RootElement.GetProperty("meta").TryGetProperty("frameTags", out _));
        Assert.Equal(["app", "version", "image", "format", "size", "scale"], atlas.RootElement.GetProperty("meta").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Aseprite_hash_and_array_atlases_describe_the_same_frames()
    {
        using var dir = new TempDir();
        var sprites = RandomSprites(6, seed: 9);
        var sheet = SpriteSheet.Pack(sprites, scale: 2);

        sheet.Write(dir.File("hash.png"), AtlasFormat.AsepriteHash);
        using var hash = JsonDocument.Parse(File.ReadAllText(dir.File("hash.json")));
        var hashFrames = hash.RootElement.GetProperty("frames").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        AssertFramesMatchSprites(Png.Read(dir.File("hash.png")), hashFrames, sprites, 2);
        Assert.All(hashFrames.Values, f => Assert.Equal(100, f.GetProperty("duration").GetInt32()));

        sheet.Write(dir.File("array.png"), AtlasFormat.AsepriteArray);
        using var array = JsonDocument.Parse(File.ReadAllText(dir.File("array.json")));
        var listed = array.RootElement.GetProperty("frames").EnumerateArray().ToArray();
        Assert.Equal(sprites.Select(s => s.Name), listed.Select(f => f.GetProperty("filename").GetString()));
        var arrayFrames = listed.ToDictionary(f => f.GetProperty("filename").GetString()!, f => f);
        AssertFramesMatchSprites(Png.Read(dir.File("array.png")), arrayFrames, sprites, 2);

        foreach (var doc in new[] { hash, array })
        {
            var meta = doc.RootElement.GetProperty("meta");
            Assert.Equal(JsonValueKind.Array, meta.GetProperty("frameTags").ValueKind);
            var layer = Assert.Single(meta.GetProperty("layers").EnumerateArray());
            Assert.Equal("normal", layer.GetProperty("blendMode").GetString());
            Assert.Equal(255, layer.GetProperty("opacity").GetInt32());
        }
        Assert.Equal("array.png", array.RootElement.GetProperty("meta").GetProperty("image").GetString());
    }

    [Fact]
    public void Transparency_survives_packing_exactly()
    {
        var sprite = new RgbaImage(2, 1, [10, 20, 30, 0, 40, 50, 60, 77]);
        var sheet = SpriteSheet.Pack([new NamedSprite("a", sprite)], scale: 3);
        Assert.Equal((6, 3), (sheet.Image.Width, sheet.Image.Height));
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 6; x++)
            {
                var expected = x < 3 ? new byte[] { 10, 20, 30, 0 } : [40, 50, 60, 77];
                Assert.Equal(expected, sheet.Image.Pixels.AsSpan((y * 6 + x) * 4, 4).ToArray());
            }
        }
    }

    [Fact]
    public void Bad_sprite_lists_are_argument_errors()
    {
        var sprites = RandomSprites(3);
        Assert.Contains("no sprites", Assert.Throws<ArgumentException>(() => SpriteSheet.Pack([])).Message);

        var duplicate = sprites.Append(new NamedSprite(sprites[1].Name, sprites[0].Image)).ToArray();
        var dupError = Assert.Throws<ArgumentException>(() => SpriteSheet.Pack(duplicate));
        Assert.Contains(sprites[1].Name, dupError.Message);
        Assert.Contains("unique", dupError.Message);
        Assert.Equal("sprites", dupError.ParamName);

        var mixed = sprites.Append(new NamedSprite("small", TestSprites.Random(8, 8, 1))).ToArray();
        var sizeError = Assert.Throws<ArgumentException>(() => SpriteSheet.Pack(mixed));
        Assert.Contains("8x8", sizeError.Message);
        Assert.Contains("16x16", sizeError.Message);

        Assert.Throws<ArgumentException>(() => SpriteSheet.Pack([new NamedSprite("", sprites[0].Image)]));
        Assert.Throws<ArgumentException>(() => SpriteSheet.Pack([new NamedSprite("broken", new RgbaImage(16, 16, new byte[5]))]));
    }

    [Theory]
    [InlineData(0, null, "scale")]
    [InlineData(65, null, "scale")]
    [InlineData(1, 0, "columns")]
    public void Bad_scale_or_columns_are_out_of_range(int scale, int? columns, string parameter)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SpriteSheet.Pack(RandomSprites(2), scale, columns));
        Assert.Equal(parameter, error.ParamName);
    }

    [Fact]
    public void A_sheet_too_large_for_a_GPU_texture_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => SpriteSheet.Pack(RandomSprites(17), scale: 64, columns: 17));
        Assert.Contains("17408x1024", error.Message);
    }

    [Fact]
    public void Write_needs_a_png_path_and_ToAtlasJson_a_bare_file_name()
    {
        var sheet = SpriteSheet.Pack(RandomSprites(1));
        Assert.Equal("pngPath", Assert.Throws<ArgumentException>(() => sheet.Write("sheet.jpg", AtlasFormat.TexturePackerHash)).ParamName);
        Assert.Equal("imageFileName", Assert.Throws<ArgumentException>(() => sheet.ToAtlasJson(AtlasFormat.AsepriteHash, "out/sheet.png")).ParamName);
    }
}
