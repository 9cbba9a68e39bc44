using System.Globalization;

namespace SpriteDiffusion.IO;

/// <summary>An opaque colour as 8-bit sRGB channels, the form palettes and backgrounds are given in.</summary>
/// <param name="R">Red, 0..255, sRGB-encoded.</param>
/// <param name="G">Green, 0..255, sRGB-encoded.</param>
/// <param name="B">Blue, 0..255, sRGB-encoded.</param>
public readonly record struct RgbColor(byte R, byte G, byte B)
{
    /// <summary>#ffffff, the background the bundled RGB data set was composited onto.</summary>
    public static readonly RgbColor White = new(255, 255, 255);

    /// <summary>#000000.</summary>
    public static readonly RgbColor Black = new(0, 0, 0);

    /// <summary>"white", "black", "#rrggbb" or "rrggbb".</summary>
    public static RgbColor Parse(string text)
    {
        string t = text.Trim();
        if (t.Equals("white", StringComparison.OrdinalIgnoreCase)) return White;
        if (t.Equals("black", StringComparison.OrdinalIgnoreCase)) return Black;
        if (TryParseHex(t, out var color)) return color;
        throw new ArgumentException($"'{text}' is not a colour; use white, black or a hex colour like #ff00ff.", nameof(text));
    }

    /// <summary>The colour from 0xRRGGBB (bits above 24 are ignored).</summary>
    public static RgbColor FromHex(uint rrggbb) => new((byte)(rrggbb >> 16), (byte)(rrggbb >> 8), (byte)rrggbb);

    /// <summary>
    /// Reads exactly six hex digits, optionally after one '#' ("1d2b53", "#1D2B53"); false for
    /// anything else, so that callers can say where the bad text was.
    /// </summary>
    public static bool TryParseHex(ReadOnlySpan<char> text, out RgbColor color)
    {
        if (text.StartsWith("#")) text = text[1..];
        if (text.Length == 6 && uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint value))
        {
            color = FromHex(value);
            return true;
        }
        color = default;
        return false;
    }

    /// <summary>The colour as 0xRRGGBB, a compact key for dictionaries and ordering.</summary>
    public int ToHex() => (R << 16) | (G << 8) | B;

    /// <summary>"#rrggbb", lower case, as palette sites write colours.</summary>
    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";
}
