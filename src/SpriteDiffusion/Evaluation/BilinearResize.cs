namespace SpriteDiffusion.Evaluation;

/// <summary>
/// Bilinear resampling of square planes with half-pixel centres and edge clamping (the convention
/// of PyTorch's interpolate(mode="bilinear", align_corners=False), which pytorch-fid uses), so
/// that features here match those of a Python pipeline fed the same images.
/// </summary>
public sealed class BilinearResize
{
    private readonly int[] _low;
    private readonly int[] _high;
    private readonly float[] _weight;
    private readonly float[] _rowBuffer;

    /// <summary>
    /// Precomputes the source rows and weights for <paramref name="sourceSize"/> to <paramref name="targetSize"/>
    /// pixels a side; throws <see cref="ArgumentOutOfRangeException"/> for a size below 1.
    /// </summary>
    public BilinearResize(int sourceSize, int targetSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetSize);
        SourceSize = sourceSize;
        TargetSize = targetSize;
        _low = new int[targetSize];
        _high = new int[targetSize];
        _weight = new float[targetSize];
        _rowBuffer = new float[2 * targetSize];
        // PyTorch computes the scale and source position in float; doing the same keeps the
        // weights bit-identical to its own at 16 -> 224.
        float scale = (float)sourceSize / targetSize;
        for (int i = 0; i < targetSize; i++)
        {
            float source = Math.Max(scale * (i + 0.5f) - 0.5f, 0f);
            int low = Math.Min((int)source, sourceSize - 1);
            _low[i] = low;
            _high[i] = low < sourceSize - 1 ? low + 1 : low;
            _weight[i] = source - low;
        }
    }

    /// <summary>The side of the planes taken, in pixels.</summary>
    public int SourceSize { get; }
    /// <summary>The side of the planes made, in pixels.</summary>
    public int TargetSize { get; }

    /// <summary>Resamples one plane (SourceSize^2 floats) into <paramref name="target"/> (TargetSize^2 floats). Not thread-safe.</summary>
    public void Resize(ReadOnlySpan<float> source, Span<float> target)
    {
        int s = SourceSize, t = TargetSize;
        if (source.Length < s * s || target.Length < t * t)
            throw new ArgumentException("plane buffers are smaller than the resize's sizes");
        // Rows of the source are resampled horizontally once each, then blended vertically.
        Span<float> upper = _rowBuffer.AsSpan(0, t);
        Span<float> lower = _rowBuffer.AsSpan(t, t);
        int upperRow = -1, lowerRow = -1;
        for (int y = 0; y < t; y++)
        {
            int r0 = _low[y], r1 = _high[y];
            if (r0 != upperRow)
            {
                if (r0 == lowerRow) lower.CopyTo(upper);
                else ResampleRow(source.Slice(r0 * s, s), upper);
                upperRow = r0;
            }
            if (r1 != lowerRow)
            {
                ResampleRow(source.Slice(r1 * s, s), lower);
                lowerRow = r1;
            }
            float w = _weight[y];
            Span<float> output = target.Slice(y * t, t);
            for (int x = 0; x < t; x++)
                output[x] = (1f - w) * upper[x] + w * lower[x];
        }
    }

    private void ResampleRow(ReadOnlySpan<float> row, Span<float> output)
    {
        for (int x = 0; x < output.Length; x++)
        {
            float a = row[_low[x]], b = row[_high[x]];
            float w = _weight[x];
            output[x] = (1f - w) * a + w * b;
        }
    }
}
