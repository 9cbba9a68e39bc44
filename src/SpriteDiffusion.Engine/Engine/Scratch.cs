using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SpriteDiffusion.Engine;

/// <summary>
/// Per-thread pinned work buffers (im2col columns, gathered gradients) that grow once and are then
/// reused, so kernels allocate nothing in the steady state.
/// </summary>
public static unsafe class Scratch
{
    private const int Slots = 6;
    [ThreadStatic] private static float[]?[]? _buffers;

    public static float* Get(int slot, long length)
    {
        _buffers ??= new float[]?[Slots];
        var buffer = _buffers[slot];
        if (buffer is null || buffer.Length < length)
        {
            long size = Math.Max(length, buffer is null ? 0 : buffer.Length + buffer.Length / 2);
            buffer = GC.AllocateUninitializedArray<float>((int)Math.Min(size, Array.MaxLength), pinned: true);
            _buffers[slot] = buffer;
        }
        fixed (float* p = buffer) return p;
    }
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

    public static (int Start, int End) Range(int count, int parts, int part)
    {
        int baseSize = count / parts, extra = count % parts;
        int start = part * baseSize + Math.Min(part, extra);
        return (start, start + baseSize + (part < extra ? 1 : 0));
    }
}
