using SpriteDiffusion.IO;

namespace SpriteDiffusion.Data;

/// <summary>
/// Turns a region of a straight-alpha RGBA image into an opaque square sprite of the target size:
/// composite onto a background, then shrink with an area (box) filter. Compositing first is exact,
/// because both steps are linear in premultiplied colour.
/// </summary>
public static class SpriteResampler
{
    public static byte[] Prepare(RgbaImage image, int left, int top, int width, int height, RgbColor background, int targetSize)
    {
        if (width < targetSize || height < targetSize)
            throw new ArgumentException($"A {width}x{height} region cannot be shrunk to {targetSize}x{targetSize}.");
        var rgb = Composite(image, left, top, width, height, background);
        if (width != targetSize || height != targetSize)
            rgb = AreaDownscale(rgb, width, height, targetSize, targetSize);
        return ToBytes(rgb);
    }

    /// <summary>RGB values 0..255 as floats: colour * alpha + background * (1 - alpha).</summary>
    private static float[] Composite(RgbaImage image, int left, int top, int width, int height, RgbColor background)
    {
        if (left < 0 || top < 0 || left + width > image.Width || top + height > image.Height)
            throw new ArgumentException($"Region ({left}, {top}, {width}x{height}) is outside the {image.Width}x{image.Height} image.");
        var rgb = new float[width * height * 3];
        Span<float> bg = [background.R, background.G, background.B];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int s = ((top + y) * image.Width + left + x) * 4;
                int d = (y * width + x) * 3;
                float alpha = image.Pixels[s + 3] / 255f;
                for (int c = 0; c < 3; c++)
                    rgb[d + c] = image.Pixels[s + c] * alpha + bg[c] * (1f - alpha);
            }
        }
        return rgb;
    }

    /// <summary>
    /// Each output pixel is the mean of the source area it covers, fractional edge pixels weighted
    /// by their covered fraction, so any ratio (not only integers) shrinks without aliasing.
    /// </summary>
    private static float[] AreaDownscale(float[] rgb, int sourceWidth, int sourceHeight, int width, int height)
    {
        var horizontal = Weights(sourceWidth, width);
        var vertical = Weights(sourceHeight, height);
        var rows = new float[sourceHeight * width * 3];
        for (int y = 0; y < sourceHeight; y++)
            for (int x = 0; x < width; x++)
                foreach (var (source, weight) in horizontal[x])
                    for (int c = 0; c < 3; c++)
                        rows[(y * width + x) * 3 + c] += weight * rgb[(y * sourceWidth + source) * 3 + c];
        var result = new float[width * height * 3];
        for (int y = 0; y < height; y++)
            foreach (var (source, weight) in vertical[y])
                for (int i = 0; i < width * 3; i++)
                    result[y * width * 3 + i] += weight * rows[source * width * 3 + i];
        return result;
    }

    private static byte[] ToBytes(float[] rgb)
    {
        var bytes = new byte[rgb.Length];
        for (int i = 0; i < rgb.Length; i++)
            bytes[i] = (byte)Math.Clamp(MathF.Round(rgb[i]), 0f, 255f);
        return bytes;
    }

    private static (int Source, float Weight)[][] Weights(int sourceLength, int length)
    {
        double ratio = (double)sourceLength / length;
        var weights = new (int, float)[length][];
        for (int i = 0; i < length; i++)
        {
            double start = i * ratio, end = (i + 1) * ratio;
            var list = new List<(int, float)>();
            for (int j = (int)Math.Floor(start); j < Math.Min(sourceLength, (int)Math.Ceiling(end)); j++)
            {
                double covered = Math.Min(j + 1, end) - Math.Max(j, start);
                if (covered > 1e-9) list.Add((j, (float)(covered / ratio)));
            }
            weights[i] = list.ToArray();
        }
        return weights;
    }
}
