using SpriteDiffusion.IO;
using SpriteDiffusion.Imaging;

namespace SpriteDiffusion.Data;

/// <summary>How <see cref="SpriteImporter"/> turns pictures into a data set.</summary>
public sealed record ImportOptions
{
    /// <summary>Side of the square sprites written; a positive multiple of 4.</summary>
    public int ImageSize { get; init; } = 16;
    /// <summary>Transparent pixels are composited onto this colour (unless <see cref="KeepAlpha"/>).</summary>
    public RgbColor Background { get; init; } = RgbColor.White;
    /// <summary>
    /// Keep transparency: images become (N, S, S, 4) straight-alpha RGBA, fully transparent pixels
    /// stored as <see cref="SpritePixels.TransparentColor"/>. Off by default: the seed's format is RGB.
    /// </summary>
    public bool KeepAlpha { get; init; }
    /// <summary>Snap every sprite's visible pixels to this palette (after resizing); null keeps its colours.</summary>
    public Palette? Palette { get; init; }
    /// <summary>With <see cref="Palette"/>: ordered (Bayer 4x4) dithering.</summary>
    public bool Dither { get; init; }
    /// <summary>Bytes per pixel of the images written: 4 with <see cref="KeepAlpha"/>, else 3.</summary>
    public int Channels => KeepAlpha ? 4 : 3;
    /// <summary>Skip (and report) corrupt, non-PNG or unusable files instead of failing the run.</summary>
    public bool SkipBadFiles { get; init; }
    /// <summary>The class name when there is only one class (a flat folder, a sheet without an index).</summary>
    public string? ClassName { get; init; }
    /// <summary>Fixes the class order (index = position); every class found must be in it.</summary>
    public IReadOnlyList<string>? ClassOrder { get; init; }
}

/// <summary>A sprite sheet's grid: square tiles, each with <see cref="Padding"/> pixels of border on every side.</summary>
/// <param name="TileSize">The side of a tile's image in pixels.</param>
/// <param name="Padding">Pixels of border on each side of every tile, skipped.</param>
public sealed record SheetLayout(int TileSize, int Padding = 0)
{
    /// <summary>The distance in pixels from one tile's corner to the next: the tile and both paddings.</summary>
    public int Pitch => TileSize + 2 * Padding;
}

/// <summary>Users' own pixel art into the seed's format: a folder of PNGs, or one sprite sheet.</summary>
public static class SpriteImporter
{
    /// <summary>
    /// Each sub-folder is a class (named after it; PNGs anywhere below it belong to it). A folder
    /// without sub-folders is one class. Hidden files and folders (".name") are ignored.
    /// </summary>
    public static ImportedSprites FromFolder(string folder, ImportOptions options, Action<string>? onSkipped = null)
    {
        CheckSize(options.ImageSize);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{folder}: no such folder. Give a folder of PNG files (one sub-folder per class) or a sprite sheet.");
        var classDirs = Directory.GetDirectories(folder).Where(d => !IsHidden(d)).OrderBy(d => d, StringComparer.Ordinal).ToList();
        var work = new List<(string File, string Class)>();
        var strays = new List<string>();
        var specials = new List<string>();
        if (classDirs.Count > 0)
        {
            foreach (string dir in classDirs)
                foreach (string file in VisibleFiles(dir, specials.Add))
                    work.Add((file, Path.GetFileName(dir)));
            strays.AddRange(Directory.GetFiles(folder).Where(f => !IsHidden(f) && FileSystemPaths.KindOf(f) == PathKind.File).OrderBy(f => f, StringComparer.Ordinal));
        }
        else
        {
            string name = options.ClassName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
            foreach (string file in VisibleFiles(folder, specials.Add))
                work.Add((file, name));
        }

        var result = new ImportedSprites(options.ImageSize, ClassList(work.Select(w => w.Class).Distinct(), options.ClassOrder, folder), options.Channels);
        var bad = new BadFileHandler(options, result, onSkipped);
        foreach (string special in specials)
            bad.Report(special);
        foreach (string stray in strays)
            bad.Report($"{stray}: lies beside the class folders, so it has no class. Move it into one of them.");
        foreach (var (file, cls) in work)
        {
            RgbaImage image;
            try { image = Png.Read(file); }
            catch (InvalidDataException e) { bad.Report(e.Message); continue; }
            if (image.Width != image.Height)
            {
                bad.Report($"{file}: is {image.Width}x{image.Height}; sprites must be square. Crop it to a square.");
                continue;
            }
            if (image.Width < options.ImageSize)
            {
                bad.Report($"{file}: is {image.Width}x{image.Height}, smaller than the target {options.ImageSize}x{options.ImageSize}; small images are not enlarged. Import with a smaller size or remove it.");
                continue;
            }
            var pixels = Prepare(image, 0, 0, image.Width, image.Height, options);
            result.Add(pixels, cls, Path.GetRelativePath(folder, file).Replace('\\', '/'));
        }
        if (result.Count == 0)
            throw new InvalidDataException($"{folder}: no usable PNG images were found in it.");
        if (options.ClassOrder is null) result.DropEmptyClasses();
        return result;
    }

    /// <summary>
    /// Tiles of one sheet: those listed in <paramref name="entries"/>, or, without entries, every
    /// cell that is not fully transparent, as one class.
    /// </summary>
    public static ImportedSprites FromSheet(string sheetPath, SheetLayout layout, ImportOptions options,
        IReadOnlyList<SheetEntry>? entries = null, Action<string>? onSkipped = null)
    {
        CheckSize(options.ImageSize);
        if (layout.TileSize < 1 || layout.Padding < 0)
            throw new ArgumentException($"Tile size {layout.TileSize} and padding {layout.Padding} do not describe a grid; the tile size must be at least 1 and the padding 0 or more.", nameof(layout));
        if (layout.TileSize < options.ImageSize)
            throw new InvalidDataException($"{sheetPath}: tiles of {layout.TileSize}x{layout.TileSize} are smaller than the target {options.ImageSize}x{options.ImageSize}; small images are not enlarged. Import with a smaller size.");
        var sheet = Png.Read(sheetPath);
        int columns = sheet.Width / layout.Pitch, rows = sheet.Height / layout.Pitch;
        if (columns == 0 || rows == 0)
            throw new InvalidDataException($"{sheetPath}: the sheet ({sheet.Width}x{sheet.Height}) is smaller than one {layout.Pitch}x{layout.Pitch} cell. Check the tile size and padding.");
        string sheetName = Path.GetFileName(sheetPath);

        string? note = null;
        if (entries is null)
        {
            string name = options.ClassName ?? Path.GetFileNameWithoutExtension(sheetPath);
            var all = new List<SheetEntry>();
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                    if (!IsFullyTransparent(sheet, c * layout.Pitch + layout.Padding, r * layout.Pitch + layout.Padding, layout.TileSize))
                        all.Add(new SheetEntry(c, r, name));
            if (all.Count == 0)
                throw new InvalidDataException($"{sheetPath}: every {layout.TileSize}x{layout.TileSize} tile is fully transparent. Check the tile size and padding.");
            if (all.Count < rows * columns)
                note = $"{rows * columns - all.Count} fully transparent cells were left out";
            entries = all;
        }
        var result = Cut(sheet, sheetPath, sheetName, layout, options, entries, columns, rows, onSkipped);
        if (note is not null) result.Warnings.Add(note);
        return result;
    }

    private static byte[] Prepare(RgbaImage image, int left, int top, int width, int height, ImportOptions options)
    {
        var pixels = options.KeepAlpha
            ? SpriteResampler.PrepareTransparent(image, left, top, width, height, options.ImageSize)
            : SpriteResampler.Prepare(image, left, top, width, height, options.Background, options.ImageSize);
        return options.Palette is { } palette ? Snap(pixels, options.ImageSize, options.Channels, palette, options.Dither) : pixels;
    }

    /// <summary>HWC bytes of 3 or 4 channels through the palette mapper, which works on RGBA.</summary>
    private static byte[] Snap(byte[] hwc, int size, int channels, Palette palette, bool dither)
    {
        var rgba = new byte[size * size * 4];
        for (int p = 0; p < size * size; p++)
        {
            hwc.AsSpan(p * channels, 3).CopyTo(rgba.AsSpan(p * 4, 3));
            rgba[p * 4 + 3] = channels == 4 ? hwc[p * 4 + 3] : (byte)255;
        }
        var mapped = PaletteMapper.Apply(new RgbaImage(size, size, rgba), palette, dither).Pixels;
        var result = new byte[hwc.Length];
        for (int p = 0; p < size * size; p++) mapped.AsSpan(p * 4, channels).CopyTo(result.AsSpan(p * channels, channels));
        return result;
    }

    private static ImportedSprites Cut(RgbaImage sheet, string sheetPath, string sheetName, SheetLayout layout, ImportOptions options,
        IReadOnlyList<SheetEntry> entries, int columns, int rows, Action<string>? onSkipped)
    {
        var result = new ImportedSprites(options.ImageSize, ClassList(entries.Select(e => e.ClassName).Distinct(), options.ClassOrder, sheetPath), options.Channels);
        var bad = new BadFileHandler(options, result, onSkipped);
        foreach (var entry in entries)
        {
            if (entry.Column >= columns || entry.Row >= rows)
            {
                bad.Report($"{sheetPath}: tile ({entry.Column}, {entry.Row}) is outside the sheet's {columns}x{rows} cells of {layout.Pitch} pixels. Check the index and the tile size.");
                continue;
            }
            int x = entry.Column * layout.Pitch + layout.Padding, y = entry.Row * layout.Pitch + layout.Padding;
            var pixels = Prepare(sheet, x, y, layout.TileSize, layout.TileSize, options);
            string source = $"{sheetName}:{entry.Column},{entry.Row}" + (string.IsNullOrEmpty(entry.Note) ? "" : " " + entry.Note);
            result.Add(pixels, entry.ClassName, source);
        }
        if (result.Count == 0)
            throw new InvalidDataException($"{sheetPath}: no tiles could be imported.");
        return result;
    }

    private static string[] ClassList(IEnumerable<string> found, IReadOnlyList<string>? order, string input)
    {
        var names = found.ToList();
        // Class names travel through classes.txt, sources.tsv and atlases: one that would break them is refused here, where it enters.
        foreach (string name in (IEnumerable<string>?)order ?? names)
            if (ClassNamesFile.Problem(name) is { } problem)
                throw new InvalidDataException($"{input}: the class name '{Shown(name)}' {problem}; rename the folder (or give --class) so that show and train can read the data set back.");
        if (order is null) return names.ToArray();
        var missing = names.Where(n => !order.Contains(n)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"{input}: class '{missing[0]}' is not among the given classes ({string.Join(", ", order)}).", nameof(order));
        return order.ToArray();
    }

    private static bool IsFullyTransparent(RgbaImage image, int left, int top, int size)
    {
        for (int y = top; y < Math.Min(image.Height, top + size); y++)
            for (int x = left; x < Math.Min(image.Width, left + size); x++)
                if (image.Pixels[(y * image.Width + x) * 4 + 3] != 0) return false;
        return true;
    }

    // Through FolderWalk: links followed once, loops refused, FIFOs and devices never opened.
    private static IEnumerable<string> VisibleFiles(string dir, Action<string> onSpecial) => FolderWalk.Files(dir, onSpecial);

    /// <summary>A name as it can be printed on one line.</summary>
    private static string Shown(string name) =>
        (name.Length > 60 ? name[..60] + "..." : name).Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');

    internal static void CheckSize(int size)
    {
        if (size < 4 || size % 4 != 0)
            throw new ArgumentOutOfRangeException(nameof(ImportOptions.ImageSize), $"Image size {size} is not usable: the U-Net halves it twice, so it must be a multiple of 4 (16, 32, ...).");
    }

    private sealed class BadFileHandler(ImportOptions options, ImportedSprites result, Action<string>? onSkipped)
    {
        public void Report(string message)
        {
            if (!options.SkipBadFiles)
                throw new InvalidDataException(message + " (Such files can be skipped instead.)");
            result.Skipped.Add(message);
            onSkipped?.Invoke(message);
        }
    }
}
