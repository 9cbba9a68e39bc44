using System.Globalization;

namespace SpriteDiffusion.Imaging;

/// <summary>An opaque colour as 8-bit sRGB channels, the form palettes are published in.</summary>
/// <param name="R">Red, 0..255, sRGB-encoded.</param>
/// <param name="G">Green, 0..255, sRGB-encoded.</param>
/// <param name="B">Blue, 0..255, sRGB-encoded.</param>
public readonly record struct RgbColor(byte R, byte G, byte B)
{
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
