using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SpriteDiffusion.Engine;

/// <summary>
/// Per-thread pinned work buffers (im2col columns, gathered gradients) that grow once and are then
/// reused, so kernels allocate nothing in the steady state.
/// </summary>
public static unsafe class Scratch
{
    private static readonly int Slots = Enum.GetValues<ScratchSlot>().Length;
    [ThreadStatic] private static float[]?[]? _buffers;

    /// <summary>
    /// This thread's buffer for one purpose, at least <paramref name="length"/> floats. Two live
    /// uses on one thread must take different slots: the buffer is the same every call.
    /// </summary>
    public static float* Get(ScratchSlot slot, long length)
    {
        _buffers ??= new float[]?[Slots];
        var buffer = _buffers[(int)slot];
        if (buffer is null || buffer.Length < length)
        {
            long size = Math.Max(length, buffer is null ? 0 : buffer.Length + buffer.Length / 2);
            buffer = GC.AllocateUninitializedArray<float>((int)Math.Min(size, Array.MaxLength), pinned: true);
            _buffers[(int)slot] = buffer;
        }
        fixed (float* p = buffer) return p;
    }
}

/// <summary>What a scratch buffer holds; each purpose has its own buffer per thread.</summary>
public enum ScratchSlot
{
    /// <summary>im2col columns, or an image's Winograd input tiles.</summary>
    Columns,
    /// <summary>Gradient columns, or the Winograd channel products of one chunk.</summary>
    Products,
    /// <summary>Per-part partial sums of a reduction, held by the calling thread.</summary>
    PartialSums,
    /// <summary>Winograd-transformed weights, held by the calling thread.</summary>
    TransformedWeights,
    /// <summary>One zero-padded image plane for the Winograd transforms.</summary>
    Plane,
}

/// <summary>Static splitting of a range into contiguous parts: the basis of deterministic reductions.</summary>
public static unsafe class Partition
{
    /// <summary>
    /// Adds per-part gradient buffers (each a weight gradient followed by a bias gradient, laid
    /// out parts after each other) into the layer's gradients, in part order.
    /// </summary>
    public static void AddParts(float* partial, int parts, float* weightGrad, int weightLength, float* biasGrad, int biasLength)
    {
        var gw = new Span<float>(weightGrad, weightLength);
        var gb = new Span<float>(biasGrad, biasLength);
        for (int p = 0; p < parts; p++)
        {
            float* src = partial + (long)p * (weightLength + biasLength);
            TensorPrimitives.Add(gw, new ReadOnlySpan<float>(src, weightLength), gw);
            TensorPrimitives.Add(gb, new ReadOnlySpan<float>(src + weightLength, biasLength), gb);
        }
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="count"/> items split into <paramref name="parts"/>
    /// contiguous half-open ranges [Start, End), the first count % parts of them one longer. Depends only
    /// on its arguments, never on which thread asks.
    /// </summary>
    public static (int Start, int End) Range(int count, int parts, int part)
    {
        int baseSize = count / parts, extra = count % parts;
        int start = part * baseSize + Math.Min(part, extra);
        return (start, start + baseSize + (part < extra ? 1 : 0));
    }
}
