namespace SpriteDiffusion.Evaluation;

/// <summary>
/// Square images in the project's in-memory format: <see cref="Count"/> x <see cref="Channels"/> x
/// <see cref="Size"/> x <see cref="Size"/> floats, channel planes in RGB order, values in [-1, 1].
/// </summary>
public sealed class ImageSet
{
    /// <summary>Images over <paramref name="chw"/>, kept, not copied; throws <see cref="ArgumentException"/> unless it holds exactly count x channels x size x size floats.</summary>
    public ImageSet(float[] chw, int count, int channels, int size)
    {
        ArgumentNullException.ThrowIfNull(chw);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if ((long)count * channels * size * size != chw.Length)
            throw new ArgumentException($"{chw.Length} floats do not hold {count} images of {channels}x{size}x{size}.", nameof(chw));
        Chw = chw;
        Count = count;
        Channels = channels;
        Size = size;
    }

    /// <summary>The images of a data set (shared, not copied).</summary>
    public static ImageSet From(SpriteDiffusion.Data.SpriteDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new ImageSet(data.Images, data.Count, data.Channels, data.ImageSize);
    }

    /// <summary>All images, image after image, each channel plane after plane.</summary>
    public float[] Chw { get; }
    /// <summary>The number of images.</summary>
    public int Count { get; }
    /// <summary>Channels per image: 3 for RGB, which the feature networks need.</summary>
    public int Channels { get; }
    /// <summary>The side of the square images in pixels.</summary>
    public int Size { get; }
    /// <summary>The documented background transparent sprites are composited onto before any feature network: white, as the RGB data set was made.</summary>
    public static readonly IO.RgbColor CompositeBackground = IO.RgbColor.White;

    /// <summary>
    /// This set as opaque RGB: a 4-channel (straight-alpha RGBA) set composited onto
    /// <see cref="CompositeBackground"/> in pixel space (values mapped to [0, 1], colour times alpha
    /// plus background times one minus alpha, mapped back); an RGB set unchanged.
    /// </summary>
    public ImageSet Opaque()
    {
        if (Channels == 3) return this;
        int plane = Size * Size;
        var rgb = new float[Count * 3 * plane];
        float[] background = [CompositeBackground.R / 255f, CompositeBackground.G / 255f, CompositeBackground.B / 255f];
        for (int n = 0; n < Count; n++)
        {
            var image = Image(n);
            var target = rgb.AsSpan(n * 3 * plane, 3 * plane);
            for (int p = 0; p < plane; p++)
            {
                float alpha = Math.Clamp((image[3 * plane + p] + 1f) / 2f, 0f, 1f);
                for (int c = 0; c < 3; c++)
                {
                    float colour = Math.Clamp((image[c * plane + p] + 1f) / 2f, 0f, 1f);
                    target[c * plane + p] = 2f * (colour * alpha + background[c] * (1f - alpha)) - 1f;
                }
            }
        }
        return new ImageSet(rgb, Count, 3, Size);
    }

    /// <summary>Floats per image: Channels x Size x Size.</summary>
    public int FloatsPerImage => Channels * Size * Size;

    /// <summary>Image <paramref name="index"/>'s values, viewing <see cref="Chw"/>.</summary>
    public ReadOnlySpan<float> Image(int index) => Chw.AsSpan(index * FloatsPerImage, FloatsPerImage);

    /// <summary>The first <paramref name="count"/> images (a copy).</summary>
    public ImageSet Take(int count)
    {
        count = Math.Min(count, Count);
        return count == Count ? this : new ImageSet(Chw.AsSpan(0, count * FloatsPerImage).ToArray(), count, Channels, Size);
    }

    /// <summary>The images at <paramref name="indices"/>, in that order (a copy).</summary>
    public ImageSet Select(IReadOnlyList<int> indices)
    {
        var data = new float[indices.Count * FloatsPerImage];
        for (int i = 0; i < indices.Count; i++)
            Image(indices[i]).CopyTo(data.AsSpan(i * FloatsPerImage));
        return new ImageSet(data, indices.Count, Channels, Size);
    }
}
