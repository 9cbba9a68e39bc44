namespace SpriteDiffusion.Evaluation;

/// <summary>
/// Square images in the project's in-memory format: <see cref="Count"/> x <see cref="Channels"/> x
/// <see cref="Size"/> x <see cref="Size"/> floats, channel planes in RGB order, values in [-1, 1].
/// </summary>
public sealed class ImageSet
{
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

    public float[] Chw { get; }
    public int Count { get; }
    public int Channels { get; }
    public int Size { get; }
    public int FloatsPerImage => Channels * Size * Size;

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

    /// <summary>8-bit RGB images (height x width x 3, as stored in .npy sprite files) to [-1, 1] CHW.</summary>
    public static ImageSet FromHwcBytes(ReadOnlySpan<byte> hwc, int count, int size)
    {
        int plane = size * size;
        var chw = new float[count * 3 * plane];
        for (int n = 0; n < count; n++)
        {
            var src = hwc.Slice(n * plane * 3, plane * 3);
            var dst = chw.AsSpan(n * plane * 3, plane * 3);
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++)
                    dst[c * plane + p] = ByteToSigned(src[p * 3 + c]);
        }
        return new ImageSet(chw, count, 3, size);
    }

    /// <summary>The SPEC's preprocessing: divide by 255, then (x - 0.5) / 0.5.</summary>
    public static float ByteToSigned(byte value) => (value / 255f - 0.5f) / 0.5f;

    /// <summary>The SPEC's pixel mapping, clamp((x + 1) / 2, 0, 1) * 255, rounded to the nearest byte.</summary>
    public static byte SignedToByte(float value)
    {
        float unit = Math.Clamp((value + 1f) * 0.5f, 0f, 1f);
        return (byte)MathF.Round(unit * 255f);
    }
}
