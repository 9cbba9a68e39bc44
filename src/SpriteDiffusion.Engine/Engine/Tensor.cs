namespace SpriteDiffusion.Engine;

/// <summary>
/// A float32 tensor: a shape over a contiguous, pinned buffer (so kernels can hold raw pointers
/// across threads). A view shares its parent's storage.
/// </summary>
public sealed unsafe class Tensor
{
    private readonly float[] _storage;
    private readonly int _offset;

    /// <summary>The dimensions, outermost first (N x C x H x W for images). The array may be shared with the caller: do not change it.</summary>
    public int[] Shape { get; }
    /// <summary>The number of elements, the product of <see cref="Shape"/>; a view's storage may be longer.</summary>
    public int Length { get; }
    /// <summary>
    /// The first element. The storage is pinned, so the pointer stays valid for the tensor's lifetime
    /// and may be used from any thread; views share it.
    /// </summary>
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

    /// <summary>
    /// A zero-filled tensor with storage of its own. Throws <see cref="ArgumentOutOfRangeException"/>
    /// when the shape holds more elements than one array can.
    /// </summary>
    public static Tensor Zeros(params int[] shape)
    {
        long length = 1;
        foreach (int d in shape) length *= d;
        if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(shape), $"a tensor of shape [{string.Join(", ", shape)}] has more elements than one buffer can hold ({Array.MaxLength}).");
        return new Tensor(GC.AllocateArray<float>((int)Math.Max(length, 1), pinned: true), 0, (int[])shape.Clone());
    }

    /// <summary>A new tensor holding a copy of <paramref name="values"/>; throws <see cref="ArgumentException"/> unless they fill the shape exactly.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        var t = Zeros(shape);
        if (values.Length != t.Length) throw new ArgumentException($"{values.Length} values do not fill shape [{string.Join(", ", shape)}]");
        values.CopyTo(t.Span);
        return t;
    }

    /// <summary>The elements over the pinned storage; writes through it change the tensor (and any view of the same storage).</summary>
    public Span<float> Span => new(Data, Length);

    /// <summary>The size of dimension <paramref name="i"/>.</summary>
    public int Dim(int i) => Shape[i];

    /// <summary>A view of Length elements starting at element offset, with a new shape.</summary>
    public Tensor View(int offset, params int[] shape) => new(_storage, _offset + offset, shape);

    /// <summary>
    /// A view of the same elements with another shape of the same element count (writes through either
    /// are seen by both); throws <see cref="ArgumentException"/> when the count differs.
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        var v = View(0, shape);
        if (v.Length != Length) throw new ArgumentException("reshape changes the element count");
        return v;
    }

    /// <summary>Sets every element to zero.</summary>
    public void Clear() => Span.Clear();

    /// <summary>A copy of the elements in memory order, e.g. to save or compare them.</summary>
    public float[] ToArray() => Span.ToArray();

    /// <summary>The shape, for debugging: <c>Tensor[16, 3, 16, 16]</c>.</summary>
    public override string ToString() => $"Tensor[{string.Join(", ", Shape)}]";
}
