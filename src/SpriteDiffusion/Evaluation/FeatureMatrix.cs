namespace SpriteDiffusion.Evaluation;

/// <summary>Feature vectors of a set of images, row by row: <see cref="Count"/> x <see cref="Dimension"/> doubles.</summary>
public sealed class FeatureMatrix
{
    /// <summary>Features over <paramref name="values"/>, kept, not copied; throws <see cref="ArgumentException"/> unless it holds exactly count x dimension values.</summary>
    public FeatureMatrix(double[] values, int count, int dimension)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if ((long)count * dimension != values.Length)
            throw new ArgumentException($"{values.Length} values are not {count} x {dimension}.", nameof(values));
        Values = values;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>All features, row after row.</summary>
    public double[] Values { get; }
    /// <summary>The number of images (rows).</summary>
    public int Count { get; }
    /// <summary>The length of each feature vector (columns).</summary>
    public int Dimension { get; }

    /// <summary>The features of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<double> Row(int index) => Values.AsSpan(index * Dimension, Dimension);

    /// <summary>The rows at <paramref name="indices"/>, in that order (a copy).</summary>
    public FeatureMatrix Select(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var values = new double[(long)indices.Count * Dimension];
        for (int i = 0; i < indices.Count; i++)
            Row(indices[i]).CopyTo(values.AsSpan(i * Dimension, Dimension));
        return new FeatureMatrix(values, indices.Count, Dimension);
    }
}
