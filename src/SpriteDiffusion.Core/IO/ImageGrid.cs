using System.Globalization;

namespace SpriteDiffusion.IO;

/// <summary>
/// Lays small RGB images out as one picture: rows of tiles, each upscaled by an integer factor
/// with nearest-neighbour (pixel art must stay crisp), separated and framed by a gap.
/// </summary>
public static class ImageGrid
{
    public static readonly RgbColor DefaultGapColor = new(40, 40, 40);

    /// <summary>
    /// Rows of tiles, each tile height x width x RGB bytes; rows may differ in length (short rows
    /// are padded with the gap colour).
    /// </summary>
    public static RgbaImage Compose(IReadOnlyList<IReadOnlyList<byte[]>> rows, int tileWidth, int tileHeight,
        int scale = 4, int gap = 1, RgbColor? gapColor = null)
    {
        if (tileWidth < 1 || tileHeight < 1) throw new ArgumentOutOfRangeException(nameof(tileWidth), "Tiles must be at least 1x1.");
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), "The scale must be at least 1.");
        if (gap < 0) throw new ArgumentOutOfRangeException(nameof(gap), "The gap cannot be negative.");
        int columns = Math.Max(1, rows.Count == 0 ? 1 : rows.Max(r => r.Count));
        int rowCount = Math.Max(1, rows.Count);
        int cellW = tileWidth * scale, cellH = tileHeight * scale;
        int width = columns * cellW + (columns + 1) * gap;
        int height = rowCount * cellH + (rowCount + 1) * gap;
        var pixels = new byte[checked(width * height * 4)];
        var fill = gapColor ?? DefaultGapColor;
        for (int i = 0; i < width * height; i++)
        {
            pixels[4 * i] = fill.R;
            pixels[4 * i + 1] = fill.G;
            pixels[4 * i + 2] = fill.B;
            pixels[4 * i + 3] = 255;
        }
        for (int r = 0; r < rows.Count; r++)
        {
            for (int c = 0; c < rows[r].Count; c++)
            {
                byte[] tile = rows[r][c];
                if (tile.Length != tileWidth * tileHeight * 3)
                    throw new ArgumentException($"Tile ({r}, {c}) has {tile.Length} bytes; a {tileWidth}x{tileHeight} RGB tile has {tileWidth * tileHeight * 3}.", nameof(rows));
                Blit(tile, tileWidth, tileHeight, scale, pixels, width, gap + c * (cellW + gap), gap + r * (cellH + gap));
            }
        }
        return new RgbaImage(width, height, pixels);
    }

    /// <summary>Tiles in reading order, <paramref name="columns"/> to a row.</summary>
    public static RgbaImage Compose(IReadOnlyList<byte[]> tiles, int columns, int tileWidth, int tileHeight,
        int scale = 4, int gap = 1, RgbColor? gapColor = null)
    {
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), "At least one column is needed.");
        var rows = tiles.Chunk(columns).Select(r => (IReadOnlyList<byte[]>)r).ToList();
        return Compose(rows, tileWidth, tileHeight, scale, gap, gapColor);
    }

    /// <summary>
    /// Model output (count x 3 x size x size, values about [-1, 1]) as a grid, mapped to pixels
    /// with clamp((x + 1) / 2, 0, 1) * 255.
    /// </summary>
    public static RgbaImage FromChw(ReadOnlySpan<float> images, int count, int size, int columns,
        int scale = 4, int gap = 1, RgbColor? gapColor = null)
    {
        int length = 3 * size * size;
        if (images.Length < count * length)
            throw new ArgumentException($"{count} images of {size}x{size} need {count * length} values; got {images.Length}.", nameof(images));
        var tiles = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            tiles[i] = new byte[size * size * 3];
            SpritePixels.ChwToHwc(images.Slice(i * length, length), tiles[i], size);
        }
        return Compose(tiles, columns, size, size, scale, gap, gapColor);
    }

    /// <summary>Nearest-neighbour upscale by an integer factor.</summary>
    public static RgbaImage Upscale(RgbaImage image, int scale)
    {
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale));
        int w = image.Width * scale, h = image.Height * scale;
        var pixels = new byte[checked(w * h * 4)];
        for (int y = 0; y < h; y++)
        {
            var sourceRow = image.Pixels.AsSpan((y / scale) * image.Width * 4, image.Width * 4);
            var row = pixels.AsSpan(y * w * 4, w * 4);
            for (int x = 0; x < image.Width; x++)
                for (int k = 0; k < scale; k++)
                    sourceRow.Slice(x * 4, 4).CopyTo(row.Slice((x * scale + k) * 4, 4));
        }
        return new RgbaImage(w, h, pixels);
    }

    private static void Blit(byte[] tile, int tileWidth, int tileHeight, int scale, byte[] target, int targetWidth, int left, int top)
    {
        for (int y = 0; y < tileHeight * scale; y++)
        {
            int sy = y / scale;
            int rowStart = ((top + y) * targetWidth + left) * 4;
            for (int x = 0; x < tileWidth * scale; x++)
            {
                int s = (sy * tileWidth + x / scale) * 3;
                int t = rowStart + x * 4;
                target[t] = tile[s];
                target[t + 1] = tile[s + 1];
                target[t + 2] = tile[s + 2];
            }
        }
    }
}
