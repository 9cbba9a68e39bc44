using SpriteDiffusion.IO;
namespace SpriteDiffusion.Imaging;

/// <summary>
/// Conversions between 8-bit sRGB and Oklab (Björn Ottosson, "A perceptual color space for image
/// processing", 2020, https://bottosson.github.io/posts/oklab/). Palette matching and k-means run
/// in Oklab because distances there follow perceived colour difference far better than in sRGB:
/// a nearest colour in RGB often has the wrong lightness, which is what reads first in pixel art.
/// </summary>
public static class Oklab
{
    // sRGB decoding is the same 256 values for every pixel, so it is computed once.
    private static readonly double[] LinearOfByte = BuildLinearTable();

    /// <summary>The Oklab coordinates of an 8-bit sRGB colour.</summary>
    public static OklabColor FromSrgb(RgbColor color) =>
        FromLinearSrgb(LinearOfByte[color.R], LinearOfByte[color.G], LinearOfByte[color.B]);

    /// <summary>The Oklab coordinates of linear-light sRGB (each channel 1.0 at full intensity).</summary>
    public static OklabColor FromLinearSrgb(double r, double g, double b)
    {
        // Ottosson's matrices from linear sRGB to cone responses (LMS), then from the
        // cube-rooted responses to Lab. Cbrt keeps the sign for colours outside the sRGB gamut.
        double l = Math.Cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
        double m = Math.Cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
        double s = Math.Cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
        return new OklabColor(
            0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
            1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
            0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s);
    }

    /// <summary>Linear-light sRGB of an Oklab colour; outside [0, 1] when the colour is out of the sRGB gamut.</summary>
    public static (double R, double G, double B) ToLinearSrgb(OklabColor color)
    {
        double l = color.L + 0.3963377774 * color.A + 0.2158037573 * color.B;
        double m = color.L - 0.1055613458 * color.A - 0.0638541728 * color.B;
        double s = color.L - 0.0894841775 * color.A - 1.2914855480 * color.B;
        l = l * l * l;
        m = m * m * m;
        s = s * s * s;
        return (
            4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
            -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
            -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s);
    }

    /// <summary>
    /// The nearest 8-bit sRGB colour: each linear channel is clipped to [0, 1] (colours outside
    /// the gamut, such as averages computed in Oklab, stay displayable), encoded, then rounded.
    /// </summary>
    public static RgbColor ToSrgb(OklabColor color)
    {
        var (r, g, b) = ToLinearSrgb(color);
        return new RgbColor(EncodeToByte(r), EncodeToByte(g), EncodeToByte(b));
    }

    /// <summary>Linear light of an sRGB-encoded byte (IEC 61966-2-1 transfer function).</summary>
    public static double SrgbToLinear(byte value) => LinearOfByte[value];

    /// <summary>The sRGB-encoded value (0..1) of linear light (0..1), the inverse of <see cref="SrgbToLinear"/>.</summary>
    public static double LinearToSrgb(double linear) =>
        linear <= 0.0031308 ? 12.92 * linear : 1.055 * Math.Pow(linear, 1 / 2.4) - 0.055;

    private static byte EncodeToByte(double linear)
    {
        double encoded = LinearToSrgb(Math.Clamp(linear, 0.0, 1.0));
        return (byte)Math.Clamp(Math.Round(encoded * 255.0, MidpointRounding.AwayFromZero), 0, 255);
    }

    private static double[] BuildLinearTable()
    {
        var table = new double[256];
        for (int i = 0; i < 256; i++)
        {
            double c = i / 255.0;
            table[i] = c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }
        return table;
    }

    /// <summary>The index of the colour of <paramref name="colors"/> nearest to <paramref name="point"/> (Euclidean in Oklab); ties go to the lower index.</summary>
    public static int IndexOfNearest(ReadOnlySpan<OklabColor> colors, OklabColor point)
    {
        int best = 0;
        double bestDistance = double.PositiveInfinity;
        for (int i = 0; i < colors.Length; i++)
        {
            double d = colors[i].DistanceSquared(point);
            if (d < bestDistance) { bestDistance = d; best = i; }
        }
        return best;
    }
}
