namespace SpriteDiffusion.Evaluation;

/// <summary>Feature vectors of a set of images, row by row: <see cref="Count"/> x <see cref="Dimension"/> doubles.</summary>
public sealed class FeatureMatrix
{
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

    public double[] Values { get; }
    public int Count { get; }
    public int Dimension { get; }

    public ReadOnlySpan<double> Row(int index) => Values.AsSpan(index * Dimension, Dimension);
}
