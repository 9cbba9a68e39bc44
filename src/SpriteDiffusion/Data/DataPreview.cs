using SpriteDiffusion.IO;

namespace SpriteDiffusion.Data;

/// <summary>What <c>sprites data show</c> draws: one row per class, its first images in data-set order.</summary>
public static class DataPreview
{
    /// <summary>
    /// Up to <paramref name="perClass"/> images of every class, one row per class in label order, each
    /// pixel drawn <paramref name="scale"/> x <paramref name="scale"/> with <paramref name="gap"/> pixels between tiles.
    /// </summary>
    public static RgbaImage Grid(SpriteDataset data, int perClass = 16, int scale = 4, int gap = 1)
    {
        if (perClass < 1) throw new ArgumentOutOfRangeException(nameof(perClass), "At least one image per class is needed.");
        int size = data.ImageSize;
        var rows = new List<byte[]>[data.NumClasses];
        for (int c = 0; c < rows.Length; c++) rows[c] = [];
        for (int i = 0; i < data.Count; i++)
        {
            var row = rows[data.Labels[i]];
            if (row.Count >= perClass) continue;
            var pixels = new byte[size * size * data.Channels];
            data.CopyPixels(i, pixels);
            row.Add(pixels);
        }
        return ImageGrid.Compose(rows.Select(r => (IReadOnlyList<byte[]>)r).ToList(), size, size, scale, gap, channels: data.Channels);
    }
}
