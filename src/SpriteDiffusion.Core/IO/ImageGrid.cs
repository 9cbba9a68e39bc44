using System.Globalization;

namespace SpriteDiffusion.IO;

/// <summary>
/// Lays small RGB images out as one picture: rows of tiles, each upscaled by an integer factor
/// with nearest-neighbour (pixel art must stay crisp), separated and framed by a gap.
/// </summary>
public static class ImageGrid
{
    /// <summary>The dark grey between and around tiles, also behind a class grid's labels.</summary>
    public static readonly RgbColor DefaultGapColor = new(40, 40, 40);

    /// <summary>The two greys of the checkerboard that transparent pixels are shown over.</summary>
    public static readonly RgbColor CheckerLight = new(255, 255, 255), CheckerDark = new(204, 204, 204);

    /// <summary>
    /// Rows of tiles, each tile height x width x <paramref name="channels"/> bytes (3: RGB; 4:
    /// straight-alpha RGBA, drawn over a checkerboard so transparency shows); rows may differ in
    /// length (short rows are padded with the gap colour).
    /// </summary>
    public static RgbaImage Compose(IReadOnlyList<IReadOnlyList<byte[]>> rows, int tileWidth, int tileHeight,
        int scale = 4, int gap = 1, RgbColor? gapColor = null, int channels = 3)
    {
        if (channels is not (3 or 4)) throw new ArgumentOutOfRangeException(nameof(channels), $"Tiles have 3 or 4 channels, not {channels}.");
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
                if (tile.Length != tileWidth * tileHeight * channels)
                    throw new ArgumentException($"Tile ({r}, {c}) has {tile.Length} bytes; a {tileWidth}x{tileHeight} tile of {channels} channels has {tileWidth * tileHeight * channels}.", nameof(rows));
                Blit(tile, tileWidth, tileHeight, scale, channels, pixels, width, gap + c * (cellW + gap), gap + r * (cellH + gap));
            }
        }
        return new RgbaImage(width, height, pixels);
    }

    /// <summary>Tiles in reading order, <paramref name="columns"/> to a row.</summary>
    public static RgbaImage Compose(IReadOnlyList<byte[]> tiles, int columns, int tileWidth, int tileHeight,
        int scale = 4, int gap = 1, RgbColor? gapColor = null, int channels = 3)
    {
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), "At least one column is needed.");
        var rows = tiles.Chunk(columns).Select(r => (IReadOnlyList<byte[]>)r).ToList();
        return Compose(rows, tileWidth, tileHeight, scale, gap, gapColor, channels);
    }

    /// <summary>
    /// Model output (count x channels x size x size, values about [-1, 1]) as a grid, mapped to
    /// pixels with clamp((x + 1) / 2, 0, 1) * 255; a fourth channel is alpha.
    /// </summary>
    public static RgbaImage FromChw(ReadOnlySpan<float> images, int count, int size, int columns,
        int scale = 4, int gap = 1, RgbColor? gapColor = null, int channels = 3)
    {
        int length = channels * size * size;
        if (images.Length < count * length)
            throw new ArgumentException($"{count} images of {size}x{size} need {count * length} values; got {images.Length}.", nameof(images));
        var tiles = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            tiles[i] = new byte[size * size * channels];
            SpritePixels.ChwToHwc(images.Slice(i * length, length), tiles[i], size, channels);
        }
        return Compose(tiles, columns, size, size, scale, gap, gapColor, channels);
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

    private static void Blit(byte[] tile, int tileWidth, int tileHeight, int scale, int channels, byte[] target, int targetWidth, int left, int top)
    {
        // Checks of two sprite pixels: smaller ones would read as the sprite's own pixel grid.
        int check = 2 * scale;
        for (int y = 0; y < tileHeight * scale; y++)
        {
            int sy = y / scale;
            int rowStart = ((top + y) * targetWidth + left) * 4;
            for (int x = 0; x < tileWidth * scale; x++)
            {
                int s = (sy * tileWidth + x / scale) * channels;
                int t = rowStart + x * 4;
                if (channels == 3 || tile[s + 3] == 255)
                {
                    target[t] = tile[s];
                    target[t + 1] = tile[s + 1];
                    target[t + 2] = tile[s + 2];
                    continue;
                }
                var under = (x / check + y / check) % 2 == 0 ? CheckerLight : CheckerDark;
                int a = tile[s + 3];
                target[t] = Over(tile[s], under.R, a);
                target[t + 1] = Over(tile[s + 1], under.G, a);
                target[t + 2] = Over(tile[s + 2], under.B, a);
            }
        }
    }

    /// <summary>Straight-alpha colour over an opaque one, rounded to nearest.</summary>
    public static byte Over(byte colour, byte under, int alpha) => (byte)((colour * alpha + under * (255 - alpha) + 127) / 255);
}
