using System.CommandLine;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Cli.Commands;

/// <summary>What `sample --sheet` asked for: the PNG, its atlas layout and the scale of its frames.</summary>
internal sealed record SheetRequest(string Path, AtlasFormat Format, int Scale);

/// <summary>
/// The flags that turn generated sprites into game-ready pixels (alpha, background, palette) and
/// the sprite sheet with its atlas. Its own file so that the sample command only declares and reads them.
/// </summary>
internal sealed class SampleOutputOptions
{
    private static readonly Dictionary<string, AtlasFormat> Atlases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["texturepacker"] = AtlasFormat.TexturePackerHash, ["aseprite"] = AtlasFormat.AsepriteHash, ["aseprite-array"] = AtlasFormat.AsepriteArray,
    };

    public Option<int> AlphaThreshold { get; } = new("--alpha-threshold")
    {
        Description = $"RGBA models: alpha below this becomes fully transparent, the rest fully opaque, as pixel art has no half-transparent pixels; 0 keeps the model's soft alpha (default {SpriteFinish.DefaultAlphaThreshold}: kept where the model says more opaque than not).",
        DefaultValueFactory = _ => SpriteFinish.DefaultAlphaThreshold,
    };

    public Option<string?> Background { get; } = new("--background") { Description = "Composite every sprite onto this colour (white, black or #rrggbb) for opaque RGB output; by default transparency is kept." };

    public Option<string?> Palette { get; } = new("--palette") { Description = $"Snap every pixel to a palette: {string.Join(", ", Imaging.Palette.BuiltInNames)}, or a .hex, .gpl or .png palette file." };

    public Option<int?> Colors { get; } = new("--colors") { Description = "Snap to an adaptive palette of K colours (k-means in Oklab), one per sprite unless --shared-palette." };

    public Option<bool> SharedPalette { get; } = new("--shared-palette") { Description = "With --colors: one palette for the whole batch." };

    public Option<bool> Dither { get; } = new("--dither") { Description = "With --palette or --colors: ordered (Bayer 4x4) dithering between the two nearest palette colours." };

    public Option<string?> Sheet { get; } = new("--sheet") { Description = "Also pack every sprite into one sprite-sheet PNG with an atlas beside it (same name, .json), at 1x unless --scale is given." };

    public Option<string> Atlas { get; } = new("--atlas")
    {
        Description = "The atlas layout for --sheet: texturepacker (JSON hash, loaded as-is by Phaser and PixiJS), aseprite or aseprite-array.",
        DefaultValueFactory = _ => "texturepacker",
    };

    public SampleOutputOptions()
    {
        Atlas.AcceptOnlyFromAmong([.. Atlases.Keys]);
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { AlphaThreshold, Background, Palette, Colors, SharedPalette, Dither, Sheet, Atlas })
            command.Options.Add(option);
    }

    public SpriteFinish ReadFinish(ParseResult r)
    {
        if (r.GetValue(Palette) is not null && r.GetValue(Colors) is not null)
            throw new UserError("--palette and --colors both choose the colours; give one of them.");
        if (r.GetValue(SharedPalette) && r.GetValue(Colors) is null)
            throw new UserError("--shared-palette shares an adaptive palette: give --colors K with it.");
        if (r.GetValue(Dither) && r.GetValue(Palette) is null && r.GetValue(Colors) is null)
            throw new UserError("--dither dithers between palette colours: give --palette or --colors with it.");
        return new SpriteFinish
        {
            AlphaThreshold = r.GetValue(AlphaThreshold),
            Background = r.GetValue(Background) is string colour ? RgbColor.Parse(colour) : null,
            Palette = r.GetValue(Palette) is string palette ? Imaging.Palette.FromNameOrFile(palette) : null,
            AdaptiveColors = r.GetValue(Colors),
            SharedPalette = r.GetValue(SharedPalette),
            Dither = r.GetValue(Dither),
        };
    }

    /// <param name="scale">The sample command's --scale: it sizes the sheet's frames only when given explicitly.</param>
    public SheetRequest? ReadSheet(ParseResult r, Option<int> scale)
    {
        if (r.GetValue(Sheet) is not string path)
        {
            if (r.GetResult(Atlas) is { Implicit: false }) throw new UserError("--atlas chooses the layout of --sheet's atlas: give --sheet PATH with it.");
            return null;
        }
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new UserError($"--sheet {path}: the sheet is a PNG, so its name must end in .png.");
        int frameScale = r.GetResult(scale) is { Implicit: false } ? r.GetValue(scale) : 1;
        return new SheetRequest(path, Atlases[r.GetValue(Atlas)!], frameScale);
    }
}
