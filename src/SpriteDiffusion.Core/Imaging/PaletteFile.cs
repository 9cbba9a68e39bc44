using SpriteDiffusion.IO;

namespace SpriteDiffusion.Imaging;

/// <summary>
/// Reads the palette files that palette sites such as Lospec offer: <c>.hex</c>, GIMP <c>.gpl</c>
/// and <c>.png</c>. Every error names the file and, for text files, the line.
/// </summary>
internal static class PaletteFile
{
    /// <summary>Real palette files are a few KiB; anything larger is the wrong file.</summary>
    public const long MaxFileBytes = 1 << 20;

    // A palette image larger than this is not a palette; the cap also bounds the memory that a
    // small but highly compressed PNG could make us allocate.
    private const long MaxImagePixels = 4L << 20;

    public static bool HasPaletteExtension(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".hex" or ".gpl" or ".png";

    public static Palette Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!HasPaletteExtension(path))
            throw new ArgumentException(
                $"{path}: a palette file must end in .hex, .gpl or .png (Lospec offers all three); this one does not.", nameof(path));
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new FileNotFoundException($"{path}: there is no palette file here. Check the path.", path);
        if (file.Length > MaxFileBytes)
            throw new InvalidDataException(
                $"{path}: the file is {file.Length:N0} bytes; palette files are at most {MaxFileBytes:N0} bytes (1 MiB). Is this the right file?");
        if (file.Length == 0)
            throw new InvalidDataException($"{path}: the file is empty; it should list the palette's colours.");

        string fallbackName = Path.GetFileNameWithoutExtension(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".hex" => ReadHex(path, InputFile.ReadAllText(path), fallbackName),
            ".gpl" => ReadGpl(path, InputFile.ReadAllText(path), fallbackName),
            _ => ReadPng(path, InputFile.ReadAllBytes(path, Png.MaxFileBytes), fallbackName),
        };
    }

    private static Palette ReadHex(string path, string text, string name)
    {
        var colors = new DistinctColors(path);
        string[] lines = SplitLines(text);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0) continue;
            if (!RgbColor.TryParseHex(line, out var color))
                throw new InvalidDataException(
                    $"{path}: line {i + 1}: '{Shorten(line)}' is not a colour. Each line of a .hex palette holds one colour as six hex digits, RRGGBB, with an optional '#' (e.g. 1d2b53).");
            colors.Add(color, $"line {i + 1}");
        }
        return colors.ToPalette(name, "no colour lines");
    }

    private static Palette ReadGpl(string path, string text, string name)
    {
        string[] lines = SplitLines(text);
        if (lines[0].Trim() != "GIMP Palette")
            throw new InvalidDataException(
                $"{path}: line 1 is '{Shorten(lines[0].Trim())}', but a GIMP palette (.gpl) starts with the line 'GIMP Palette'. Export the palette again in GIMP format.");
        var colors = new DistinctColors(path);
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("Columns:", StringComparison.Ordinal)) continue;
            if (line.StartsWith("Name:", StringComparison.Ordinal))
            {
                string given = line["Name:".Length..].Trim();
                if (given.Length > 0) name = given;
                continue;
            }
            if (!TryParseGplColor(line, out var color))
                throw new InvalidDataException(
                    $"{path}: line {i + 1}: '{Shorten(line)}' is not a colour. A colour line of a GIMP palette holds red, green and blue as whole numbers from 0 to 255, then an optional name (e.g. '29 43 83 dark blue').");
            colors.Add(color, $"line {i + 1}");
        }
        return colors.ToPalette(name, "no colour lines after the header");
    }

    private static bool TryParseGplColor(string line, out RgbColor color)
    {
        color = default;
        var parts = line.Split([' ', '\t'], 4, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3) return false;
        Span<byte> channels = stackalloc byte[3];
        for (int c = 0; c < 3; c++)
            if (!byte.TryParse(parts[c], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out channels[c]))
                return false;
        color = new RgbColor(channels[0], channels[1], channels[2]);
        return true;
    }

    private static Palette ReadPng(string path, byte[] bytes, string name)
    {
        var image = Png.Decode(bytes, path);
        int width = image.Width, height = image.Height;
        if ((long)width * height > MaxImagePixels)
            throw new InvalidDataException(
                $"{path}: the image is {width}x{height} pixels; a palette image has at most {MaxImagePixels:N0} pixels. Is this the right file?");
        var pixels = image.Pixels;
        var colors = new DistinctColors(path);
        for (int i = 0; i < width * height; i++)
        {
            // Only fully opaque pixels are colours: palette images use transparency for gaps.
            if (pixels[4 * i + 3] != 255) continue;
            colors.Add(new RgbColor(pixels[4 * i], pixels[4 * i + 1], pixels[4 * i + 2]), $"pixel ({i % width}, {i / width})");
        }
        return colors.ToPalette(name, "no fully opaque pixels");
    }

    private static string[] SplitLines(string text) => text.Split('\n');

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";

    /// <summary>Colours in first-seen order, each once, stopping with a located error at the 257th.</summary>
    private sealed class DistinctColors(string path)
    {
        private readonly List<RgbColor> _ordered = [];
        private readonly HashSet<RgbColor> _seen = [];

        public void Add(RgbColor color, string where)
        {
            if (!_seen.Add(color)) return;
            if (_seen.Count > Palette.MaxColors)
                throw new InvalidDataException(
                    $"{path}: {where} brings the palette to {_seen.Count} distinct colours; a palette holds at most {Palette.MaxColors}. Use a smaller palette.");
            _ordered.Add(color);
        }

        public Palette ToPalette(string name, string whatWasMissing)
        {
            if (_ordered.Count == 0)
                throw new InvalidDataException($"{path}: the palette has {whatWasMissing}, so it has no colours.");
            return new Palette(name, _ordered);
        }
    }
}
