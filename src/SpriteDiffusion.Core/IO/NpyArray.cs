namespace SpriteDiffusion.IO;

/// <summary>A whole .npy array in memory: a typed flat buffer in C order plus its shape.</summary>
public sealed class NpyArray
{
    private NpyArray(NpyDType dtype, int[] shape, Array data)
    {
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    /// <summary>The element type, which decides the array type of <see cref="Data"/>.</summary>
    public NpyDType DType { get; }
    /// <summary>The dimensions in C order; empty for a scalar.</summary>
    public int[] Shape { get; }
    /// <summary>byte[], long[], float[] or double[] according to <see cref="DType"/>.</summary>
    public Array Data { get; }
    /// <summary>The number of elements, the product of <see cref="Shape"/>.</summary>
    public int Count => Data.Length;
    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>
    /// An array over <paramref name="data"/> (kept, not copied) with a copy of <paramref name="shape"/>.
    /// Throws <see cref="ArgumentException"/> when the shape does not hold exactly data.Length elements.
    /// </summary>
    public static NpyArray Create<T>(T[] data, params int[] shape) where T : unmanaged
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException("Shape dimensions must be non-negative.", nameof(shape));
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) holds {count} elements but the data has {data.Length}.", nameof(data));
        return new NpyArray(NpyDTypes.Of<T>(), (int[])shape.Clone(), data);
    }

    /// <summary>The data as <typeparamref name="T"/>[] (not a copy); throws <see cref="InvalidOperationException"/> when the array holds another type.</summary>
    public T[] Get<T>() where T : unmanaged =>
        Data as T[] ?? throw new InvalidOperationException($"The array holds {DType.Name()}, not {NpyDTypes.Of<T>().Name()}.");

    /// <summary>Every element as a double, whatever the stored type (exact for all but huge int64s).</summary>
    public double ToDouble(int index) => Data switch
    {
        byte[] b => b[index],
        long[] l => l[index],
        float[] f => f[index],
        double[] d => d[index],
        _ => throw new InvalidOperationException(),
    };
}
