using SpriteDiffusion.IO;

namespace SpriteDiffusion.Imaging;

/// <summary>
/// Sprites of one size packed into a grid on a single RGBA image, row by row in the order given,
/// each enlarged by an integer factor with nearest neighbour, with the frame of every sprite
/// recorded for an atlas that game engines load beside the image.
/// </summary>
public sealed class SpriteSheet
{
    /// <summary>The largest scale accepted; beyond it a 16x16 sprite would exceed 1024 pixels a side.</summary>
    public const int MaxScale = 64;

    /// <summary>
    /// The longest side a sheet may have: 16384 is the largest texture most GPUs (and so
    /// Phaser and PixiJS) accept; a bigger sheet would pack fine and then fail to load.
    /// </summary>
    public const int MaxSide = 16384;

    private SpriteSheet(RgbaImage image, IReadOnlyList<SheetFrame> frames, int columns, int rows, int scale)
    {
        Image = image;
        Frames = frames;
        Columns = columns;
        Rows = rows;
        Scale = scale;
    }

    /// <summary>The sheet; cells that hold no sprite are fully transparent.</summary>
    public RgbaImage Image { get; }

    /// <summary>One frame per sprite, in the order the sprites were given.</summary>
    public IReadOnlyList<SheetFrame> Frames { get; }

    /// <summary>Sprites per row.</summary>
    public int Columns { get; }

    /// <summary>Rows of sprites.</summary>
    public int Rows { get; }

    /// <summary>How many sheet pixels each sprite pixel became, across and down.</summary>
    public int Scale { get; }

    /// <summary>
    /// Packs <paramref name="sprites"/> in reading order into <paramref name="columns"/> columns,
    /// or, when that is null, the near-square ceil(sqrt(n)) columns (7 sprites: 3x3, 37: 7x6).
    /// Sprite pixels, alpha included, are copied unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">No sprites, a blank or repeated name, sprites of different sizes, a malformed image, or a sheet over <see cref="MaxSide"/> pixels.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> is not in 1..<see cref="MaxScale"/> or <paramref name="columns"/> is below 1.</exception>
    public static SpriteSheet Pack(IReadOnlyList<NamedSprite> sprites, int scale = 1, int? columns = null)
    {
        ArgumentNullException.ThrowIfNull(sprites);
        if (scale is < 1 or > MaxScale)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"The scale must be a whole number from 1 to {MaxScale}.");
        if (columns is < 1)
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "A sheet needs at least one column.");
        CheckSprites(sprites);

        int count = sprites.Count;
        int columnCount = columns ?? (int)Math.Ceiling(Math.Sqrt(count));
        int rowCount = (count + columnCount - 1) / columnCount;
        int cellWidth = sprites[0].Image.Width * scale, cellHeight = sprites[0].Image.Height * scale;
        long sheetWidth = (long)columnCount * cellWidth, sheetHeight = (long)rowCount * cellHeight;
        if (sheetWidth > MaxSide || sheetHeight > MaxSide)
            throw new ArgumentException(
                $"{count} sprites of {cellWidth}x{cellHeight} in {columnCount} columns make a {sheetWidth}x{sheetHeight} sheet; game engines load sheets of at most {MaxSide}x{MaxSide}. Use fewer sprites per sheet, a smaller scale, or a column count closer to square.",
                nameof(sprites));

        var image = new RgbaImage((int)sheetWidth, (int)sheetHeight, new byte[sheetWidth * sheetHeight * 4]);
        var frames = new SheetFrame[count];
        for (int n = 0; n < count; n++)
        {
            int x = n % columnCount * cellWidth, y = n / columnCount * cellHeight;
            frames[n] = new SheetFrame(sprites[n].Name, x, y, cellWidth, cellHeight);
            DrawScaled(sprites[n].Image, scale, image, x, y);
        }
        return new SpriteSheet(image, Array.AsReadOnly(frames), columnCount, rowCount, scale);
    }

    /// <summary>The atlas in <paramref name="format"/>, naming <paramref name="imageFileName"/> (the sheet PNG's file name, no folder) as its image.</summary>
    /// <exception cref="ArgumentException"><paramref name="imageFileName"/> is blank or contains a folder.</exception>
    public string ToAtlasJson(AtlasFormat format, string imageFileName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(imageFileName);
        if (Path.GetFileName(imageFileName) != imageFileName)
            throw new ArgumentException($"'{imageFileName}' should be a file name only: the atlas names its image relative to itself.", nameof(imageFileName));
        return AtlasJson.Write(this, format, imageFileName);
    }

    /// <summary>The atlas path that <see cref="Write"/> uses for a sheet: the same path with ".json".</summary>
    public static string AtlasPathFor(string pngPath) => Path.ChangeExtension(pngPath, ".json");

    /// <summary>
    /// Writes the sheet to <paramref name="pngPath"/> and its atlas beside it
    /// (<see cref="AtlasPathFor"/>), each atomically; the PNG goes first so that a new atlas never
    /// describes an old image. Returns the atlas path.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="pngPath"/> does not end in .png.</exception>
    public string Write(string pngPath, AtlasFormat format)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pngPath);
        if (!pngPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{pngPath}: a sprite sheet is written as PNG, so its file name must end in .png.", nameof(pngPath));
        string atlasPath = AtlasPathFor(pngPath);
        string json = ToAtlasJson(format, Path.GetFileName(pngPath));
        AtomicFile.WriteAllBytes(pngPath, Png.Encode(Image));
        AtomicFile.WriteAllText(atlasPath, json);
        return atlasPath;
    }

    private static void CheckSprites(IReadOnlyList<NamedSprite> sprites)
    {
        if (sprites.Count == 0)
            throw new ArgumentException("There are no sprites to pack; a sheet needs at least one.", nameof(sprites));
        var firstIndexOfName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int n = 0; n < sprites.Count; n++)
        {
            var sprite = sprites[n]
                ?? throw new ArgumentException($"Sprite {n} is null.", nameof(sprites));
            if (string.IsNullOrWhiteSpace(sprite.Name))
                throw new ArgumentException($"Sprite {n} has no name; every frame in an atlas needs one.", nameof(sprites));
            if (!firstIndexOfName.TryAdd(sprite.Name, n))
                throw new ArgumentException(
                    $"Sprites {firstIndexOfName[sprite.Name]} and {n} are both named '{sprite.Name}'; frame names must be unique because engines look frames up by name.",
                    nameof(sprites));
            if (sprite.Image is null)
                throw new ArgumentException($"Sprite '{sprite.Name}' has no image.", nameof(sprites));
            ImageChecks.RequireWellFormed(sprite.Image, $"Sprite '{sprite.Name}'", nameof(sprites));
            var first = sprites[0].Image;
            if (sprite.Image.Width != first.Width || sprite.Image.Height != first.Height)
                throw new ArgumentException(
                    $"Sprite '{sprite.Name}' is {sprite.Image.Width}x{sprite.Image.Height} but '{sprites[0].Name}' is {first.Width}x{first.Height}; every sprite on a sheet must have the same size.",
                    nameof(sprites));
        }
    }

    private static void DrawScaled(RgbaImage sprite, int scale, RgbaImage sheet, int left, int top)
    {
        int rowBytes = sprite.Width * scale * 4;
        for (int sy = 0; sy < sprite.Height; sy++)
        {
            var source = sprite.Pixels.AsSpan(sy * sprite.Width * 4, sprite.Width * 4);
            int firstRow = top + sy * scale;
            var target = sheet.Pixels.AsSpan((firstRow * sheet.Width + left) * 4, rowBytes);
            for (int sx = 0; sx < sprite.Width; sx++)
                for (int k = 0; k < scale; k++)
                    source.Slice(sx * 4, 4).CopyTo(target.Slice((sx * scale + k) * 4, 4));
            for (int k = 1; k < scale; k++)
                target.CopyTo(sheet.Pixels.AsSpan(((firstRow + k) * sheet.Width + left) * 4, rowBytes));
        }
    }
}
