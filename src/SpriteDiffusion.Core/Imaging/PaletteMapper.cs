using SpriteDiffusion.IO;

namespace SpriteDiffusion.Imaging;

/// <summary>
/// Redraws an image in a palette's colours: each visible pixel becomes its nearest palette colour
/// in Oklab, optionally with 4x4 ordered (Bayer) dithering. Fully transparent pixels (alpha 0)
/// keep all four bytes; other pixels keep their alpha.
/// </summary>
/// <remarks>
/// How the dither threshold is applied: a pixel's two nearest palette colours c1 (nearer) and c2
/// are found in Oklab, the pixel is projected onto the segment c1-c2 to get t, the share of c2 in
/// the mix (0 at c1, about 0.5 halfway), and c2 is drawn where t exceeds the Bayer threshold of
/// the pixel's position, c1 elsewhere. Over a 4x4 tile the share of c2 is therefore t rounded to
/// sixteenths. Why this rather than adding an offset in RGB before quantising: a pixel that is
/// already a palette colour has t = 0 and is never changed, so flat palette-exact areas stay
/// clean (an RGB offset sprinkles noise over them as soon as the offset exceeds half the gap
/// between two palette colours); no offset strength needs tuning per palette; and the mix is
/// measured in the same perceptual space as the nearest-colour choice.
/// </remarks>
public static class PaletteMapper
{
    // The 4x4 Bayer index matrix: each value is the order in which that cell switches as the
    // mix grows, so any share k/16 lights k cells spread as evenly as a 4x4 tile allows.
    private static readonly byte[] Bayer4x4 =
    [
        0, 8, 2, 10,
        12, 4, 14, 6,
        3, 11, 1, 9,
        15, 7, 13, 5,
    ];

    /// <summary>The Bayer index (0..15) of a pixel position: the cell of the 4x4 tile it falls in.</summary>
    internal static int BayerIndex(int x, int y) => Bayer4x4[(y & 3) * 4 + (x & 3)];

    /// <summary>
    /// A new image: <paramref name="image"/> with every pixel whose alpha is not 0 replaced by a
    /// palette colour (alpha kept), dithered when <paramref name="dither"/> is true.
    /// </summary>
    /// <exception cref="ArgumentException">The image's buffer does not match its size.</exception>
    public static RgbaImage Apply(RgbaImage image, Palette palette, bool dither)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(palette);
        ImageChecks.RequireWellFormed(image, "The image", nameof(image));
        byte[] pixels = (byte[])image.Pixels.Clone();
        RgbColor[] colors = palette.ColorArray;
        OklabColor[] oklab = palette.OklabColors;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                int i = (y * image.Width + x) * 4;
                if (pixels[i + 3] == 0) continue;
                var color = Oklab.FromSrgb(new RgbColor(pixels[i], pixels[i + 1], pixels[i + 2]));
                int chosen = dither ? DitheredIndex(oklab, color, x, y) : palette.IndexOfNearest(color);
                pixels[i] = colors[chosen].R;
                pixels[i + 1] = colors[chosen].G;
                pixels[i + 2] = colors[chosen].B;
            }
        }
        return new RgbaImage(image.Width, image.Height, pixels);
    }

    private static int DitheredIndex(OklabColor[] palette, OklabColor color, int x, int y)
    {
        int nearest = -1, second = -1;
        double nearestDistance = double.PositiveInfinity, secondDistance = double.PositiveInfinity;
        for (int i = 0; i < palette.Length; i++)
        {
            double d = palette[i].DistanceSquared(color);
            if (d < nearestDistance)
            {
                second = nearest; secondDistance = nearestDistance;
                nearest = i; nearestDistance = d;
            }
            else if (d < secondDistance)
            {
                second = i; secondDistance = d;
            }
        }
        if (second < 0) return nearest;
        double share = ShareOfSecond(palette[nearest], palette[second], color);
        double threshold = (BayerIndex(x, y) + 0.5) / 16.0;
        return share > threshold ? second : nearest;
    }

    /// <summary>Where <paramref name="color"/> projects onto the segment from c1 to c2, clamped to [0, 1].</summary>
    private static double ShareOfSecond(OklabColor c1, OklabColor c2, OklabColor color)
    {
        double dl = c2.L - c1.L, da = c2.A - c1.A, db = c2.B - c1.B;
        double length2 = dl * dl + da * da + db * db;
        double along = (color.L - c1.L) * dl + (color.A - c1.A) * da + (color.B - c1.B) * db;
        return Math.Clamp(along / length2, 0.0, 1.0);
    }
}
