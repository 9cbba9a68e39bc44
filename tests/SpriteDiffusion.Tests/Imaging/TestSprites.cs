using SpriteDiffusion.Imaging;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Imaging;

/// <summary>Random and hand-made images for the imaging tests.</summary>
internal static class TestSprites
{
    /// <summary>
    /// Random RGBA: about a quarter of the pixels fully transparent with random colour bytes
    /// underneath (which must survive untouched), a quarter partly transparent, the rest opaque.
    /// </summary>
    public static RgbaImage Random(int width, int height, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 4];
        random.NextBytes(pixels);
        for (int i = 0; i < width * height; i++)
        {
            int kind = random.Next(4);
            pixels[4 * i + 3] = kind switch { 0 => 0, 1 => (byte)random.Next(1, 255), _ => 255 };
        }
        return new RgbaImage(width, height, pixels);
    }

    /// <summary>A width x height image of one colour and alpha.</summary>
    public static RgbaImage Flat(int width, int height, RgbColor color, byte alpha = 255)
    {
        var pixels = new byte[width * height * 4];
        for (int i = 0; i < width * height; i++)
        {
            pixels[4 * i] = color.R;
            pixels[4 * i + 1] = color.G;
            pixels[4 * i + 2] = color.B;
            pixels[4 * i + 3] = alpha;
        }
        return new RgbaImage(width, height, pixels);
    }

    public static RgbColor ColorAt(RgbaImage image, int x, int y)
    {
        int i = (y * image.Width + x) * 4;
        return new RgbColor(image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]);
    }

    public static byte AlphaAt(RgbaImage image, int x, int y) => image.Pixels[(y * image.Width + x) * 4 + 3];

    /// <summary>The distinct colours of pixels whose alpha is not 0.</summary>
    public static HashSet<RgbColor> VisibleColors(RgbaImage image)
    {
        var colors = new HashSet<RgbColor>();
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                if (AlphaAt(image, x, y) != 0) colors.Add(ColorAt(image, x, y));
        return colors;
    }
}
