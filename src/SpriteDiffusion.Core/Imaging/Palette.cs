using SpriteDiffusion.IO;

namespace SpriteDiffusion.Imaging;

/// <summary>
/// A named, ordered set of at most 256 distinct opaque colours that images are mapped onto: a
/// built-in console palette, one read from a palette file, or one fitted to sprites by k-means.
/// </summary>
public sealed class Palette
{
    /// <summary>The most colours a palette may hold: what an 8-bit indexed image can address.</summary>
    public const int MaxColors = 256;

    private readonly RgbColor[] _colors;
    private readonly OklabColor[] _oklab;
    private readonly IReadOnlyList<RgbColor> _readOnlyColors;

    /// <summary>
    /// A palette of the given colours in the given order. A colour given more than once is kept
    /// once, at its first place (published tables such as the NES one repeat black).
    /// </summary>
    /// <exception cref="ArgumentException">The name is blank, or there are no colours or more than <see cref="MaxColors"/> distinct ones.</exception>
    public Palette(string name, IEnumerable<RgbColor> colors)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(colors);
        var distinct = new List<RgbColor>();
        var seen = new HashSet<RgbColor>();
        foreach (var color in colors)
            if (seen.Add(color)) distinct.Add(color);
        if (distinct.Count == 0)
            throw new ArgumentException($"Palette '{name}' has no colours; a palette needs at least one.", nameof(colors));
        if (distinct.Count > MaxColors)
            throw new ArgumentException($"Palette '{name}' has {distinct.Count} distinct colours; at most {MaxColors} are supported.", nameof(colors));
        Name = name;
        _colors = distinct.ToArray();
        _oklab = Array.ConvertAll(_colors, Oklab.FromSrgb);
        // A wrapper, not the array: a caller casting Colors back to an array must not be able
        // to change colours behind the Oklab copies that mapping uses.
        _readOnlyColors = Array.AsReadOnly(_colors);
    }

    /// <summary>What the palette is called: its built-in name, the name in its file, or "adaptive-K".</summary>
    public string Name { get; }

    /// <summary>The colours, distinct, in palette order.</summary>
    public IReadOnlyList<RgbColor> Colors => _readOnlyColors;

    /// <summary>The names <see cref="BuiltIn"/> accepts: pico-8, gameboy, nes, cga, endesga-32.</summary>
    public static IReadOnlyList<string> BuiltInNames => BuiltInPalettes.Names;

    /// <summary>The colours as an array, for loops that must not go through an interface.</summary>
    internal RgbColor[] ColorArray => _colors;

    /// <summary>The colours in Oklab, computed once so that mapping a pixel converts only the pixel.</summary>
    internal OklabColor[] OklabColors => _oklab;

    /// <summary>
    /// A built-in palette by name. Case, '-', '_' and spaces do not matter ("PICO-8", "pico8",
    /// "game-boy", "Endesga 32").
    /// </summary>
    /// <exception cref="ArgumentException">No built-in palette has that name; the message lists those that exist.</exception>
    public static Palette BuiltIn(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var (canonicalName, table) = BuiltInPalettes.Find(name)
            ?? throw new ArgumentException($"There is no built-in palette called '{name}'. The built-in palettes are {string.Join(", ", BuiltInNames)}.", nameof(name));
        return new Palette(canonicalName, table.Select(RgbColor.FromHex));
    }

    /// <summary>
    /// Reads a palette file: <c>.hex</c> (one RRGGBB per line, '#' optional), GIMP <c>.gpl</c>, or a
    /// <c>.png</c> whose distinct opaque pixels, in reading order, are the colours.
    /// </summary>
    /// <exception cref="ArgumentException">The extension is not .hex, .gpl or .png.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is empty, malformed (the message names the line), over 1 MiB, or has more than 256 colours.</exception>
    public static Palette Load(string path) => PaletteFile.Load(path);

    /// <summary>
    /// A palette file when <paramref name="nameOrPath"/> ends in .hex, .gpl or .png, else the
    /// built-in palette of that name: the one argument a user interface needs to offer both.
    /// </summary>
    public static Palette FromNameOrFile(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (PaletteFile.HasPaletteExtension(nameOrPath)) return Load(nameOrPath);
        if (BuiltInPalettes.Find(nameOrPath) is null)
            throw new ArgumentException(
                $"'{nameOrPath}' is neither a built-in palette ({string.Join(", ", BuiltInNames)}) nor a palette file (.hex, .gpl or .png).",
                nameof(nameOrPath));
        return BuiltIn(nameOrPath);
    }

    /// <summary>
    /// At most <paramref name="colors"/> colours fitted to the visible pixels of all the sprites
    /// together (one palette shared by a batch), by deterministic k-means in Oklab; exactly the
    /// sprites' colours when they have no more than that. Colours are ordered dark to light.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="colors"/> is not in 1..256.</exception>
    /// <exception cref="ArgumentException">There are no sprites, a sprite is malformed, or no pixel is visible.</exception>
    public static Palette Adaptive(IEnumerable<RgbaImage> sprites, int colors) => AdaptivePalette.Fit(sprites, colors);

    /// <summary>The adaptive palette of one sprite: <see cref="Adaptive(IEnumerable{RgbaImage}, int)"/> over just it.</summary>
    public static Palette Adaptive(RgbaImage sprite, int colors)
    {
        ArgumentNullException.ThrowIfNull(sprite);
        return AdaptivePalette.Fit([sprite], colors);
    }

    /// <summary>The index of the colour nearest to <paramref name="color"/> in Oklab; ties go to the lower index.</summary>
    public int IndexOfNearest(OklabColor color) => Oklab.IndexOfNearest(_oklab, color);

    /// <summary>The name and the number of colours, e.g. "pico-8 (16 colours)".</summary>
    public override string ToString() => $"{Name} ({_colors.Length} colours)";
}
