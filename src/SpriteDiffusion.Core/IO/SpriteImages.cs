
namespace SpriteDiffusion.IO;

/// <summary>Generated sprites to PNG: a nearly square grid, or one file per sprite.</summary>
public static class SpriteImages
{
    public static int GridColumns(int count) => Math.Max(1, (int)Math.Ceiling(Math.Sqrt(count)));

    /// <param name="columns">Sprites per row; by default the nearly square <see cref="GridColumns"/>.</param>
    public static void WriteGrid(string path, ReadOnlySpan<float> samples, int count, int size, int scale = 4, int? columns = null) =>
        Png.Write(path, Grid(samples, count, size, scale, columns));

    /// <summary>The picture <see cref="WriteGrid"/> writes, e.g. for one frame of an animation.</summary>
    public static RgbaImage Grid(ReadOnlySpan<float> samples, int count, int size, int scale = 4, int? columns = null)
    {
        if (scale < 1 || scale > 64) throw new ArgumentOutOfRangeException(nameof(scale), $"the scale must be between 1 and 64 (got {scale}).");
        return ImageGrid.FromChw(samples, count, size, columns ?? GridColumns(count), scale, gap: scale > 1 ? 1 : 0);
    }

    /// <summary>Writes sprite_000.png, sprite_001.png, ... into a folder, each upscaled like the grid.</summary>
    public static IReadOnlyList<string> WriteEach(string directory, ReadOnlySpan<float> samples, int count, int size, int scale = 4)
    {
        int length = 3 * size * size;
        var written = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            string path = Path.Combine(directory, $"sprite_{i:D3}.png");
            Png.Write(path, ImageGrid.FromChw(samples.Slice(i * length, length), 1, size, 1, scale, gap: 0));
            written.Add(path);
        }
        return written;
    }
}
