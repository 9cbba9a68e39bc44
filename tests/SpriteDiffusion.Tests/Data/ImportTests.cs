using SpriteDiffusion.Data;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Data;

public class ImportTests
{
    private static RgbaImage RandomOpaque(int size, Random rng)
    {
        var p = new byte[size * size * 4];
        rng.NextBytes(p);
        for (int i = 3; i < p.Length; i += 4) p[i] = 255;
        return new RgbaImage(size, size, p);
    }

    private static byte[] RgbBytes(RgbaImage image)
    {
        var rgb = new byte[image.Width * image.Height * 3];
        for (int i = 0; i < image.Width * image.Height; i++)
            for (int c = 0; c < 3; c++) rgb[i * 3 + c] = image.Pixels[i * 4 + c];
        return rgb;
    }

    [Fact]
    public void AFolderOfClassFoldersBecomesTheSeedsFormat()
    {
        var rng = new Random(1);
        using var dir = new TempDir();
        var a = RandomOpaque(16, rng);
        var b = RandomOpaque(16, rng);
        var c = RandomOpaque(16, rng);
        Png.Write(dir.File("in", "knights", "a.png"), a);
        Png.Write(dir.File("in", "knights", "more", "b.png"), b);
        Png.Write(dir.File("in", "apples", "c.png"), c);
        Png.Write(dir.File("in", ".hidden", "x.png"), RandomOpaque(16, rng));

        var sprites = SpriteImporter.FromFolder(dir.File("in"), new ImportOptions());
        Assert.Equal(["apples", "knights"], sprites.ClassNames);
        Assert.Equal([0, 1, 1], sprites.Labels);
        Assert.Equal(["apples/c.png", "knights/a.png", "knights/more/b.png"], sprites.Sources);
        sprites.WriteTo(dir.File("out"), overwrite: false);

        var images = Npy.Read(dir.File("out", "images.npy"));
        Assert.Equal([3, 16, 16, 3], images.Shape);
        Assert.Equal([.. RgbBytes(c), .. RgbBytes(a), .. RgbBytes(b)], images.Get<byte>());
        var labels = Npy.Read(dir.File("out", "labels.npy"));
        Assert.Equal(NpyDType.Float64, labels.DType);
        Assert.Equal([1.0, 0, 0, 1, 0, 1], labels.Get<double>());
        var data = SpriteDataset.LoadDirectory(dir.File("out"));
        Assert.Equal(["apples", "knights"], data.ClassNames);
        Assert.Equal(sprites.ToDataset().Images, data.Images);
    }

    [Fact]
    public void LargerImagesShrinkWithAnAreaFilter()
    {
        using var dir = new TempDir();
        var rng = new Random(2);
        // 32x32 made of 2x2 blocks of one colour: shrinking to 16 must give the block colours back.
        var small = RandomOpaque(16, rng);
        Png.Write(dir.File("in", "big.png"), ImageGrid.Upscale(small, 2));
        // 24x24 to 16x16 is a 1.5 ratio: output pixel 0 is (2 * p0 + p1) / 3 of source pixels 0 and 1.
        var odd = RandomOpaque(24, rng);
        Png.Write(dir.File("in", "odd.png"), odd);

        var sprites = SpriteImporter.FromFolder(dir.File("in"), new ImportOptions { ClassName = "things" });
        Assert.Equal(["things"], sprites.ClassNames);
        Assert.Equal(RgbBytes(small), sprites.Pixels(0));
        byte[] shrunk = sprites.Pixels(1);
        for (int c = 0; c < 3; c++)
        {
            double p00 = odd.Pixels[c], p01 = odd.Pixels[4 + c], p10 = odd.Pixels[24 * 4 + c], p11 = odd.Pixels[25 * 4 + c];
            double expected = (p00 * 1.0 * 1.0 + p01 * 0.5 * 1.0 + p10 * 1.0 * 0.5 + p11 * 0.5 * 0.5) / (1.5 * 1.5);
            Assert.InRange(shrunk[c], Math.Round(expected) - 1, Math.Round(expected) + 1);
        }
    }

    [Fact]
    public void TransparencyIsCompositedOntoTheChosenBackground()
    {
        using var dir = new TempDir();
        var p = new byte[16 * 16 * 4];
        for (int i = 0; i < 256; i++) { p[i * 4] = 255; p[i * 4 + 3] = (byte)(i % 3 == 0 ? 0 : i % 3 == 1 ? 128 : 255); }
        Png.Write(dir.File("in", "ghost.png"), new RgbaImage(16, 16, p));
        var white = SpriteImporter.FromFolder(dir.File("in"), new ImportOptions()).Pixels(0);
        Assert.Equal([255, 255, 255], white[0..3]);            // transparent: the background
        Assert.Equal([255, 127, 127], white[3..6]);            // half red over white
        Assert.Equal([255, 0, 0], white[6..9]);                // opaque red
        var teal = SpriteImporter.FromFolder(dir.File("in"), new ImportOptions { Background = RgbColor.Parse("#008080") }).Pixels(0);
        Assert.Equal([0, 128, 128], teal[0..3]);
        Assert.Equal([128, 64, 64], teal[3..6]);
    }

    [Fact]
    public void BadFilesFailTheRunByNameOrAreSkippedAndReported()
    {
        var rng = new Random(3);
        using var dir = new TempDir();
        Png.Write(dir.File("in", "good", "ok.png"), RandomOpaque(16, rng));
        File.WriteAllBytes(dir.File("in", "good", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        File.WriteAllText(dir.File("in", "good", "notes.txt"), "not an image");
        Png.Write(dir.File("in", "good", "tiny.png"), RandomOpaque(8, rng));
        Png.Write(dir.File("in", "good", "wide.png"), new RgbaImage(32, 16, new byte[32 * 16 * 4]));

        var e = Assert.Throws<InvalidDataException>(() => SpriteImporter.FromFolder(dir.File("in"), new ImportOptions()));
        Assert.Contains("broken.png", e.Message);
        Assert.Contains("can be skipped", e.Message);
        Assert.False(Directory.Exists(dir.File("out")));

        var skipped = new List<string>();
        var sprites = SpriteImporter.FromFolder(dir.File("in"), new ImportOptions { SkipBadFiles = true }, skipped.Add);
        Assert.Equal(1, sprites.Count);
        Assert.Equal(4, sprites.Skipped.Count);
        Assert.Equal(sprites.Skipped, skipped);
        Assert.Contains(skipped, s => s.Contains("broken.png") && s.Contains("not a PNG"));
        Assert.Contains(skipped, s => s.Contains("notes.txt") && s.Contains("not a PNG"));
        Assert.Contains(skipped, s => s.Contains("tiny.png") && s.Contains("smaller than the target 16x16"));
        Assert.Contains(skipped, s => s.Contains("wide.png") && s.Contains("square"));
    }

    [Fact]
    public void AFailedRunLeavesNoOutputAndAnExistingSetNeedsForce()
    {
        var rng = new Random(4);
        using var dir = new TempDir();
        Png.Write(dir.File("in", "x.png"), RandomOpaque(16, rng));
        var sprites = SpriteImporter.FromFolder(dir.File("in"), new ImportOptions());

        // Writing where a file blocks the folder fails cleanly, leaving no temp files behind.
        File.WriteAllText(dir.File("blocker"), "");
        Assert.Throws<IOException>(() => sprites.WriteTo(dir.File("blocker", "out"), false));
        Assert.Equal(["blocker", "in"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order());

        sprites.WriteTo(dir.File("out"), false);
        File.WriteAllText(dir.File("out", "README.md"), "mine");
        byte[] before = File.ReadAllBytes(dir.File("out", "images.npy"));
        Png.Write(dir.File("in", "y.png"), RandomOpaque(16, rng));
        var more = SpriteImporter.FromFolder(dir.File("in"), new ImportOptions());
        Assert.Contains("allow replacing it", Assert.Throws<IOException>(() => more.WriteTo(dir.File("out"), false)).Message);
        Assert.Equal(before, File.ReadAllBytes(dir.File("out", "images.npy")));
        more.WriteTo(dir.File("out"), overwrite: true);
        Assert.Equal(2, SpriteDataset.LoadDirectory(dir.File("out")).Count);
        Assert.Equal("mine", File.ReadAllText(dir.File("out", "README.md")));
        Assert.DoesNotContain(Directory.GetFiles(dir.File("out")), f => f.EndsWith(".tmp"));
    }

    /// <summary>A 3x2 sheet of 20-pixel tiles with 1 pixel of magenta padding: any leak of padding shows.</summary>
    private static (string Path, RgbaImage[] Tiles) WriteSheet(TempDir dir, Random rng)
    {
        const int tile = 20, pitch = 22;
        var sheet = new byte[3 * pitch * 2 * pitch * 4];
        for (int i = 0; i < sheet.Length; i += 4) { sheet[i] = 255; sheet[i + 2] = 255; sheet[i + 3] = 255; }
        var tiles = new RgbaImage[6];
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 3; c++)
            {
                var t = RandomOpaque(tile, rng);
                if (r == 1 && c == 2) Array.Clear(t.Pixels); // an empty, fully transparent cell
                tiles[r * 3 + c] = t;
                for (int y = 0; y < tile; y++)
                    t.Pixels.AsSpan(y * tile * 4, tile * 4).CopyTo(sheet.AsSpan(((r * pitch + 1 + y) * 3 * pitch + c * pitch + 1) * 4));
            }
        string path = dir.File("sheet.png");
        Png.Write(path, new RgbaImage(3 * pitch, 2 * pitch, sheet));
        return (path, tiles);
    }

    [Fact]
    public void ASheetIsCutByItsIndexFile()
    {
        using var dir = new TempDir();
        var (sheet, tiles) = WriteSheet(dir, new Random(5));
        File.WriteAllText(dir.File("index.txt"), "# column, row, class, note\n2,0,heroes,first\n\n0\t1\tfood\tan apple\n1,1,heroes\n");
        var entries = SheetIndex.Read(dir.File("index.txt"));
        var layout = new SheetLayout(20, 1);
        var sprites = SpriteImporter.FromSheet(sheet, layout, new ImportOptions { ImageSize = 20 }, entries);
        Assert.Equal(["heroes", "food"], sprites.ClassNames);
        Assert.Equal([0, 1, 0], sprites.Labels);
        Assert.Equal(["sheet.png:2,0 first", "sheet.png:0,1 an apple", "sheet.png:1,1"], sprites.Sources);
        Assert.Equal(RgbBytes(tiles[2]), sprites.Pixels(0));
        Assert.Equal(RgbBytes(tiles[3]), sprites.Pixels(1));
        Assert.Equal(RgbBytes(tiles[4]), sprites.Pixels(2));

        var whole = SpriteImporter.FromSheet(sheet, layout, new ImportOptions { ImageSize = 16, ClassName = "all" });
        Assert.Equal(5, whole.Count);
        Assert.Equal(["all"], whole.ClassNames);
        Assert.Contains(whole.Warnings, w => w.Contains("1 fully transparent"));
        Assert.All(Enumerable.Range(0, 5), i => Assert.Equal(16 * 16 * 3, whole.Pixels(i).Length));

        var outside = new List<SheetEntry> { new(3, 0, "x") };
        Assert.Contains("outside the sheet", Assert.Throws<InvalidDataException>(() =>
            SpriteImporter.FromSheet(sheet, layout, new ImportOptions { ImageSize = 20 }, outside)).Message);
        Assert.Contains("smaller than the target", Assert.Throws<InvalidDataException>(() =>
            SpriteImporter.FromSheet(sheet, layout, new ImportOptions { ImageSize = 24 })).Message);
        File.WriteAllText(dir.File("bad-index.txt"), "1,1,ok\nthree,1,x\n");
        var e = Assert.Throws<InvalidDataException>(() => SheetIndex.Read(dir.File("bad-index.txt")));
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void SizesThatAreNotMultiplesOfFourAreRefused()
    {
        using var dir = new TempDir();
        Png.Write(dir.File("in", "x.png"), RandomOpaque(16, new Random(6)));
        Assert.Contains("multiple of 4", Assert.Throws<ArgumentOutOfRangeException>(() =>
            SpriteImporter.FromFolder(dir.File("in"), new ImportOptions { ImageSize = 10 })).Message);
    }

    [Fact]
    public void TwemojiEntriesComeFromEmojiJsonAsTheRecipeSays()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("emoji.json"), """
        [
          {"unified": "1F44B", "short_name": "wave", "category": "People & Body", "sort_order": 5, "sheet_x": 3, "sheet_y": 1, "has_img_twitter": true,
           "skin_variations": {
             "1F3FC": {"unified": "1F44B-1F3FC", "sheet_x": 3, "sheet_y": 3, "has_img_twitter": true},
             "1F3FB": {"unified": "1F44B-1F3FB", "sheet_x": 3, "sheet_y": 2, "has_img_twitter": true},
             "1F3FD": {"unified": "1F44B-1F3FD", "sheet_x": 3, "sheet_y": 4, "has_img_twitter": false}}},
          {"unified": "1F3FB", "short_name": "skin-tone-2", "category": "Component", "sort_order": 1, "sheet_x": 0, "sheet_y": 0, "has_img_twitter": true},
          {"unified": "1F600", "short_name": "grinning", "category": "Smileys & Emotion", "sort_order": 9, "sheet_x": 1, "sheet_y": 0, "has_img_twitter": true},
          {"unified": "1F601", "short_name": "grin", "category": "Smileys & Emotion", "sort_order": 2, "sheet_x": 2, "sheet_y": 0, "has_img_twitter": true},
          {"unified": "1F602", "short_name": "joy", "category": "Smileys & Emotion", "sort_order": 3, "sheet_x": 4, "sheet_y": 0, "has_img_twitter": false}
        ]
        """);
        var entries = Twemoji.ReadEntries(dir.File("emoji.json"));
        Assert.Equal(
        [
            new SheetEntry(2, 0, "Smileys & Emotion", "1F601 grin"),
            new SheetEntry(1, 0, "Smileys & Emotion", "1F600 grinning"),
            new SheetEntry(3, 1, "People & Body", "1F44B wave"),
            new SheetEntry(3, 2, "People & Body", "1F44B-1F3FB wave"),
            new SheetEntry(3, 3, "People & Body", "1F44B-1F3FC wave"),
        ], entries);

        File.WriteAllText(dir.File("emoji.json"), """[{"category": "Smileys & People", "sheet_x": 0, "sheet_y": 0, "has_img_twitter": true}]""");
        Assert.Contains("unknown category", Assert.Throws<InvalidDataException>(() => Twemoji.ReadEntries(dir.File("emoji.json"))).Message);
        Assert.Contains("npm install", Assert.Throws<FileNotFoundException>(() => Twemoji.ReadEntries(dir.File("missing.json"))).Message);
    }

    [Fact]
    public void ColoursParseFromNamesAndHex()
    {
        Assert.Equal(new RgbColor(255, 255, 255), RgbColor.Parse("white"));
        Assert.Equal(new RgbColor(0x12, 0xab, 0xEF), RgbColor.Parse("#12abEF"));
        Assert.Equal(new RgbColor(1, 2, 3), RgbColor.Parse("010203"));
        Assert.Contains("not a colour", Assert.Throws<ArgumentException>(() => RgbColor.Parse("mauve")).Message);
    }
}
