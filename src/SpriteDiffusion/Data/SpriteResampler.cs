using SpriteDiffusion.IO;

namespace SpriteDiffusion.Data;

/// <summary>
/// Turns a region of a straight-alpha RGBA image into a square sprite of the target size: either
/// composited onto a background (opaque RGB), or kept transparent (straight RGBA). Either way the
/// region is shrunk with an area (box) filter in premultiplied colour, where averaging is exact:
/// compositing first gives the same RGB, and for RGBA a transparent pixel adds no colour to its
/// neighbours' average.
/// </summary>
public static class SpriteResampler
{
    /// <summary>Height x width x RGB bytes: the region composited onto <paramref name="background"/>.</summary>
    public static byte[] Prepare(RgbaImage image, int left, int top, int width, int height, RgbColor background, int targetSize)
    {
        CheckRegion(image, left, top, width, height, targetSize);
        var rgb = Composite(image, left, top, width, height, background);
        if (width != targetSize || height != targetSize)
            rgb = AreaDownscale(rgb, width, height, targetSize, targetSize, channels: 3);
        return ToBytes(rgb);
    }

    /// <summary>
    /// Height x width x RGBA bytes, straight alpha, fully transparent pixels set to
    /// <see cref="SpritePixels.TransparentColor"/>.
    /// </summary>
    public static byte[] PrepareTransparent(RgbaImage image, int left, int top, int width, int height, int targetSize)
    {
        CheckRegion(image, left, top, width, height, targetSize);
        var rgba = Premultiplied(image, left, top, width, height);
        if (width != targetSize || height != targetSize)
            rgba = AreaDownscale(rgba, width, height, targetSize, targetSize, channels: 4);
        var bytes = new byte[rgba.Length];
        for (int i = 0; i < rgba.Length; i += 4)
        {
            byte alpha = (byte)Math.Clamp(MathF.Round(rgba[i + 3]), 0f, 255f);
            bytes[i + 3] = alpha;
            if (alpha == 0)
            {
                var clear = SpritePixels.TransparentColor;
                bytes[i] = clear.R; bytes[i + 1] = clear.G; bytes[i + 2] = clear.B;
                continue;
            }
            float unpremultiply = 255f / rgba[i + 3];
            for (int c = 0; c < 3; c++) bytes[i + c] = (byte)Math.Clamp(MathF.Round(rgba[i + c] * unpremultiply), 0f, 255f);
        }
        return bytes;
    }

    private static void CheckRegion(RgbaImage image, int left, int top, int width, int height, int targetSize)
    {
        if (width < targetSize || height < targetSize)
            throw new ArgumentException($"A {width}x{height} region cannot be shrunk to {targetSize}x{targetSize}.", nameof(targetSize));
        if (left < 0 || top < 0 || left + width > image.Width || top + height > image.Height)
            throw new ArgumentException($"Region ({left}, {top}, {width}x{height}) is outside the {image.Width}x{image.Height} image.", nameof(image));
    }

    /// <summary>RGB values 0..255 as floats: colour * alpha + background * (1 - alpha).</summary>
    private static float[] Composite(RgbaImage image, int left, int top, int width, int height, RgbColor background)
    {
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

    /// <summary>RGBA values 0..255 as floats, colour multiplied by alpha.</summary>
    private static float[] Premultiplied(RgbaImage image, int left, int top, int width, int height)
    {
        var rgba = new float[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int s = ((top + y) * image.Width + left + x) * 4;
                int d = (y * width + x) * 4;
                float alpha = image.Pixels[s + 3] / 255f;
                for (int c = 0; c < 3; c++) rgba[d + c] = image.Pixels[s + c] * alpha;
                rgba[d + 3] = image.Pixels[s + 3];
            }
        }
        return rgba;
    }

    /// <summary>
    /// Each output pixel is the mean of the source area it covers, fractional edge pixels weighted
    /// by their covered fraction, so any ratio (not only integers) shrinks without aliasing.
    /// </summary>
    private static float[] AreaDownscale(float[] values, int sourceWidth, int sourceHeight, int width, int height, int channels)
    {
        var horizontal = Weights(sourceWidth, width);
        var vertical = Weights(sourceHeight, height);
        var rows = new float[sourceHeight * width * channels];
        for (int y = 0; y < sourceHeight; y++)
            for (int x = 0; x < width; x++)
                foreach (var (source, weight) in horizontal[x])
                    for (int c = 0; c < channels; c++)
                        rows[(y * width + x) * channels + c] += weight * values[(y * sourceWidth + source) * channels + c];
        var result = new float[width * height * channels];
        for (int y = 0; y < height; y++)
            foreach (var (source, weight) in vertical[y])
                for (int i = 0; i < width * channels; i++)
                    result[y * width * channels + i] += weight * rows[source * width * channels + i];
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
