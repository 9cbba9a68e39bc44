using SpriteDiffusion.Data;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>
/// Sprite-like test images that need no data set: a flat or graded background and
/// one filled shape (disc, ring, square, diamond, triangle) with a dark outline, in random colours,
/// positions and sizes. Structured the way sprites are, unlike uniform noise.
/// </summary>
internal static class ProceduralSprites
{
    public static ImageSet Make(int count, int seed, int size = 16)
    {
        var rng = new Random(seed);
        int plane = size * size;
        var chw = new float[count * 3 * plane];
        var rgb = new float[3];
        for (int n = 0; n < count; n++)
        {
            var background = RandomColour(rng);
            var background2 = RandomColour(rng);
            bool graded = rng.Next(2) == 0;
            var fill = RandomColour(rng);
            int shape = rng.Next(5);
            double cx = 4 + rng.NextDouble() * (size - 8), cy = 4 + rng.NextDouble() * (size - 8);
            double radius = 3 + rng.NextDouble() * (size / 2.0 - 3);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    double inside = Inside(shape, x + 0.5 - cx, y + 0.5 - cy, radius);
                    for (int c = 0; c < 3; c++)
                    {
                        float bg = graded ? background[c] + (background2[c] - background[c]) * y / (size - 1f) : background[c];
                        rgb[c] = inside > 1.0 ? fill[c] * (0.7f + 0.3f * (float)(y / (double)size)) : inside > 0 ? 0.1f : bg;
                        chw[(n * 3 + c) * plane + y * size + x] = SpritePixels.ToValue((byte)Math.Round(Math.Clamp(rgb[c], 0f, 1f) * 255));
                    }
                }
        }
        return new ImageSet(chw, count, 3, size);
    }

    public static ImageSet UniformNoise(int count, int seed, int size = 16)
    {
        var rng = new Random(seed);
        var chw = new float[count * 3 * size * size];
        for (int i = 0; i < chw.Length; i++)
            chw[i] = SpritePixels.ToValue((byte)rng.Next(256));
        return new ImageSet(chw, count, 3, size);
    }

    // > 1: inside the shape, (0, 1]: on its one-pixel outline, <= 0: outside.
    private static double Inside(int shape, double dx, double dy, double r)
    {
        double distance = shape switch
        {
            0 => Math.Sqrt(dx * dx + dy * dy),
            1 => Math.Abs(Math.Sqrt(dx * dx + dy * dy) - r * 0.6) + r * 0.6,
            2 => Math.Max(Math.Abs(dx), Math.Abs(dy)),
            3 => Math.Abs(dx) + Math.Abs(dy),
            _ => Math.Max(-dy, Math.Abs(dx) * 1.7 + dy * 0.85),
        };
        return r + 1 - distance;
    }

    private static float[] RandomColour(Random rng) => [(float)rng.NextDouble(), (float)rng.NextDouble(), (float)rng.NextDouble()];
}
