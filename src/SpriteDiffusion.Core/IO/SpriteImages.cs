
namespace SpriteDiffusion.IO;

/// <summary>Generated sprites to PNG: a nearly square grid, or one file per sprite.</summary>
public static class SpriteImages
{
    /// <summary>The columns of a nearly square grid of <paramref name="count"/> sprites: ceil(sqrt(count)), at least 1.</summary>
    public static int GridColumns(int count) => Math.Max(1, (int)Math.Ceiling(Math.Sqrt(count)));

    /// <summary>Writes generated sprites as one grid PNG, atomically; alpha is drawn over a checkerboard.</summary>
    /// <param name="path">The PNG to write.</param>
    /// <param name="samples">count images of channels x size x size values (CHW), about [-1, 1], one after another.</param>
    /// <param name="count">The number of sprites.</param>
    /// <param name="size">The sprites' side in pixels.</param>
    /// <param name="scale">Each sprite pixel becomes scale x scale pixels, 1 to 64; above 1, a 1-pixel gap separates the sprites.</param>
    /// <param name="columns">Sprites per row; by default the nearly square <see cref="GridColumns"/>.</param>
    /// <param name="channels">3 (RGB) or 4 (straight-alpha RGBA).</param>
    public static void WriteGrid(string path, ReadOnlySpan<float> samples, int count, int size, int scale = 4, int? columns = null, int channels = 3) =>
        Png.Write(path, Grid(samples, count, size, scale, columns, channels));

    /// <summary>The picture <see cref="WriteGrid"/> writes, e.g. for one frame of an animation; alpha over a checkerboard.</summary>
    public static RgbaImage Grid(ReadOnlySpan<float> samples, int count, int size, int scale = 4, int? columns = null, int channels = 3)
    {
        CheckScale(scale);
        return ImageGrid.FromChw(samples, count, size, columns ?? GridColumns(count), scale, gap: scale > 1 ? 1 : 0, channels: channels);
    }

    /// <summary>Finished sprites (RGBA, 1x) as the grid picture, transparency over a checkerboard.</summary>
    public static RgbaImage Grid(IReadOnlyList<RgbaImage> sprites, int scale = 4, int? columns = null)
    {
        CheckScale(scale);
        if (sprites.Count == 0) throw new ArgumentException("a grid needs at least one sprite.", nameof(sprites));
        int w = sprites[0].Width, h = sprites[0].Height;
        return ImageGrid.Compose(sprites.Select(s => s.Pixels).ToList(), columns ?? GridColumns(sprites.Count), w, h, scale, gap: scale > 1 ? 1 : 0, channels: 4);
    }

    /// <summary>Writes sprite_000.png, sprite_001.png, ... (RGBA, transparency kept) into a folder, each upscaled like the grid.</summary>
    public static IReadOnlyList<string> WriteEach(string directory, IReadOnlyList<RgbaImage> sprites, int scale = 4)
    {
        CheckScale(scale);
        var written = new List<string>(sprites.Count);
        for (int i = 0; i < sprites.Count; i++)
        {
            string path = Path.Combine(directory, $"sprite_{i:D3}.png");
            Png.Write(path, ImageGrid.Upscale(sprites[i], scale));
            written.Add(path);
        }
        return written;
    }

    private static void CheckScale(int scale)
    {
        if (scale < 1 || scale > 64) throw new ArgumentOutOfRangeException(nameof(scale), $"the scale must be between 1 and 64 (got {scale}).");
    }
}
