using SkiaSharp;

namespace SpriteDiffusion.IO;

/// <summary>
/// A grid of generated sprites with one row per class and the class's name to the left of its
/// row, drawn through SkiaSharp.
/// </summary>
public static class ClassGrid
{
    /// <summary>
    /// <paramref name="sprites"/> holds labels.Count x perRow finished sprites (RGBA, 1x), row by
    /// row; they are upscaled by <paramref name="scale"/> as in the plain grid, transparency over a checkerboard.
    /// </summary>
    public static RgbaImage Compose(IReadOnlyList<RgbaImage> sprites, IReadOnlyList<string> labels, int perRow, int scale)
    {
        if (labels.Count < 1 || perRow < 1) throw new ArgumentOutOfRangeException(nameof(perRow), "a class grid needs at least one row and one column.");
        if (sprites.Count != labels.Count * perRow) throw new ArgumentException($"{labels.Count} rows of {perRow} need {labels.Count * perRow} sprites; got {sprites.Count}.", nameof(sprites));
        int size = sprites[0].Height;
        var grid = SpriteImages.Grid(sprites, scale, perRow);
        int cell = size * scale + (scale > 1 ? 1 : 0);
        using var font = new SKFont(SKTypeface.Default, size: Math.Clamp(cell * 0.35f, 9f, 20f));
        using var paint = new SKPaint { Color = SKColors.White, IsAntialias = true };
        float margin = font.Size * 0.6f;
        int labelWidth = (int)Math.Ceiling(labels.Max(l => font.MeasureText(l)) + 2 * margin);

        var info = new SKImageInfo(labelWidth + grid.Width, grid.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        using (var canvas = new SKCanvas(bitmap))
        {
            var gap = ImageGrid.DefaultGapColor;
            canvas.Clear(new SKColor(gap.R, gap.G, gap.B));
            using var picture = Png.ToBitmap(grid);
            canvas.DrawBitmap(picture, labelWidth, 0);
            for (int r = 0; r < labels.Count; r++)
            {
                float middle = (scale > 1 ? 1 : 0) + r * cell + size * scale / 2f;
                canvas.DrawText(labels[r], labelWidth - margin, middle + font.Size * 0.35f, SKTextAlign.Right, font, paint);
            }
        }
        var pixels = new byte[info.BytesSize];
        System.Runtime.InteropServices.Marshal.Copy(bitmap.GetPixels(), pixels, 0, pixels.Length);
        return new RgbaImage(info.Width, info.Height, pixels);
    }

    /// <summary>Writes the <see cref="Compose"/> picture as a PNG, atomically.</summary>
    public static void Write(string path, IReadOnlyList<RgbaImage> sprites, IReadOnlyList<string> labels, int perRow, int scale) =>
        Png.Write(path, Compose(sprites, labels, perRow, scale));
}
