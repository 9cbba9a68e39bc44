namespace SpriteDiffusion.Engine;

/// <summary>
/// A float32 tensor: a shape over a contiguous, pinned buffer (so kernels can hold raw pointers
/// across threads). A view shares its parent's storage.
/// </summary>
public sealed unsafe class Tensor
{
    private readonly float[] _storage;
    private readonly int _offset;

    public int[] Shape { get; }
    public int Length { get; }
    public float* Data { get; }

    private Tensor(float[] storage, int offset, int[] shape)
    {
        long length = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(", ", shape)}]");
            length *= d;
        }
        if (offset < 0 || offset + length > storage.Length) throw new ArgumentException("view outside its storage");
        _storage = storage;
        _offset = offset;
        Shape = shape;
        Length = (int)length;
        fixed (float* p = storage) Data = p + offset;
    }

    public static Tensor Zeros(params int[] shape)
    {
        long length = 1;
        foreach (int d in shape) length *= d;
        if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(shape), $"a tensor of shape [{string.Join(", ", shape)}] has more elements than one buffer can hold ({Array.MaxLength}).");
        return new Tensor(GC.AllocateArray<float>((int)Math.Max(length, 1), pinned: true), 0, (int[])shape.Clone());
    }

    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        var t = Zeros(shape);
        if (values.Length != t.Length) throw new ArgumentException($"{values.Length} values do not fill shape [{string.Join(", ", shape)}]");
        values.CopyTo(t.Span);
        return t;
    }

    public Span<float> Span => new(Data, Length);

    public int Dim(int i) => Shape[i];

    /// <summary>A view of Length elements starting at element offset, with a new shape.</summary>
    public Tensor View(int offset, params int[] shape) => new(_storage, _offset + offset, shape);

    public Tensor Reshape(params int[] shape)
    {
        var v = View(0, shape);
        if (v.Length != Length) throw new ArgumentException("reshape changes the element count");
        return v;
    }

    public void Clear() => Span.Clear();

    public float[] ToArray() => Span.ToArray();

    public override string ToString() => $"Tensor[{string.Join(", ", Shape)}]";
}
