using SpriteDiffusion.IO;

namespace SpriteDiffusion.Imaging;

/// <summary>
/// How generated sprites become the pixels a game uses: hard alpha edges, an optional background,
/// an optional palette. Every output (grid, single PNGs, sheet) is made from the same finished sprites.
/// </summary>
public sealed record SpriteFinish
{
    /// <summary>
    /// The default alpha threshold: a pixel is kept when the model makes it more opaque than not.
    /// Pixel art has no half-transparent pixels, so the model's soft alpha is cut at its middle.
    /// </summary>
    public const int DefaultAlphaThreshold = 128;

    /// <summary>Alpha below this becomes 0, the rest 255; 0 keeps the model's alpha as it is.</summary>
    public int AlphaThreshold { get; init; } = DefaultAlphaThreshold;

    /// <summary>Composite everything onto this colour (opaque RGB output); null keeps transparency.</summary>
    public RgbColor? Background { get; init; }

    /// <summary>Snap every visible pixel to this palette; null leaves colours as generated.</summary>
    public Palette? Palette { get; init; }

    /// <summary>An adaptive palette of this many colours, per sprite or shared (<see cref="SharedPalette"/>).</summary>
    public int? AdaptiveColors { get; init; }

    /// <summary>With <see cref="AdaptiveColors"/>: one palette for the whole batch instead of one per sprite.</summary>
    public bool SharedPalette { get; init; }

    /// <summary>Ordered (Bayer 4x4) dithering between the two nearest palette colours.</summary>
    public bool Dither { get; init; }

    /// <summary>Nothing changed: opaque sprites come out exactly as the model drew them.</summary>
    public static SpriteFinish None { get; } = new();
}

/// <summary>Model output to finished RGBA sprites (1x), applying a <see cref="SpriteFinish"/>.</summary>
public static class SpriteFinishing
{
    /// <summary>
    /// Finished 1x RGBA sprites, one per image, in order. Throws <see cref="ArgumentOutOfRangeException"/>
    /// or <see cref="ArgumentException"/> for a finish that contradicts itself or a span too short.
    /// </summary>
    /// <param name="samples">count x channels x size x size, values about [-1, 1]; a fourth channel is alpha.</param>
    /// <param name="count">The number of sprites in <paramref name="samples"/>.</param>
    /// <param name="channels">3 (RGB) or 4 (RGBA).</param>
    /// <param name="size">The sprites' side in pixels.</param>
    /// <param name="finish">Alpha threshold, background and palette to apply; <see cref="SpriteFinish.None"/> changes nothing.</param>
    public static RgbaImage[] Finish(ReadOnlySpan<float> samples, int count, int channels, int size, SpriteFinish finish)
    {
        if (channels is not (3 or 4)) throw new ArgumentOutOfRangeException(nameof(channels), $"sprites have 3 or 4 channels, not {channels}.");
        if (finish.AlphaThreshold is < 0 or > 255)
            throw new ArgumentOutOfRangeException(nameof(SpriteFinish.AlphaThreshold), $"the alpha threshold must be between 0 and 255 (got {finish.AlphaThreshold}).");
        if (finish.Palette is not null && finish.AdaptiveColors is not null)
            throw new ArgumentException("give a palette or a number of adaptive colours, not both.", nameof(SpriteFinish.AdaptiveColors));
        if (finish.AdaptiveColors is < 1 or > Palette.MaxColors)
            throw new ArgumentOutOfRangeException(nameof(SpriteFinish.AdaptiveColors), $"an adaptive palette has 1 to {Palette.MaxColors} colours (got {finish.AdaptiveColors}).");
        int length = channels * size * size;
        if (samples.Length < count * length)
            throw new ArgumentException($"{count} sprites of {channels}x{size}x{size} need {count * length} values; got {samples.Length}.", nameof(samples));

        var sprites = new RgbaImage[count];
        var hwc = new byte[size * size * channels];
        for (int i = 0; i < count; i++)
        {
            SpritePixels.ChwToHwc(samples.Slice(i * length, length), hwc, size, channels);
            sprites[i] = ToRgba(hwc, size, channels, finish);
        }
        if (finish.Palette is { } fixedPalette)
            for (int i = 0; i < count; i++) sprites[i] = PaletteMapper.Apply(sprites[i], fixedPalette, finish.Dither);
        else if (finish.AdaptiveColors is int k)
        {
            var shared = finish.SharedPalette ? Palette.Adaptive(sprites, k) : null;
            for (int i = 0; i < count; i++)
                sprites[i] = PaletteMapper.Apply(sprites[i], shared ?? Palette.Adaptive(sprites[i], k), finish.Dither);
        }
        return sprites;
    }

    private static RgbaImage ToRgba(byte[] hwc, int size, int channels, SpriteFinish finish)
    {
        var pixels = new byte[size * size * 4];
        for (int p = 0; p < size * size; p++)
        {
            int s = p * channels, d = p * 4;
            int alpha = channels == 4 ? hwc[s + 3] : 255;
            if (channels == 4 && finish.AlphaThreshold > 0) alpha = alpha < finish.AlphaThreshold ? 0 : 255;
            if (finish.Background is { } bg)
            {
                pixels[d] = ImageGrid.Over(hwc[s], bg.R, alpha);
                pixels[d + 1] = ImageGrid.Over(hwc[s + 1], bg.G, alpha);
                pixels[d + 2] = ImageGrid.Over(hwc[s + 2], bg.B, alpha);
                pixels[d + 3] = 255;
            }
            else if (alpha == 0)
            {
                // A transparent pixel's colour is the data set's convention, not the model's noise.
                var clear = SpritePixels.TransparentColor;
                pixels[d] = clear.R; pixels[d + 1] = clear.G; pixels[d + 2] = clear.B; pixels[d + 3] = 0;
            }
            else
            {
                pixels[d] = hwc[s]; pixels[d + 1] = hwc[s + 1]; pixels[d + 2] = hwc[s + 2]; pixels[d + 3] = (byte)alpha;
            }
        }
        return new RgbaImage(size, size, pixels);
    }
}
