using System.Runtime.Intrinsics;
using SpriteDiffusion.Engine;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SpriteDiffusion.Layers;

/// <summary>Channel concatenation, the embeddings' broadcast scale and shift, the residual average, and the loss.</summary>
public static unsafe class TensorOps
{
    private static readonly int PConcatChannels = Profiler.Register("concat.forward");
    private static readonly int PConcatChannelsBackward = Profiler.Register("concat.backward");
    private static readonly int PScaleShift = Profiler.Register("scaleshift.forward");
    private static readonly int PScaleShiftBackward = Profiler.Register("scaleshift.backward");
    private static readonly int PResidual = Profiler.Register("residual.forward");

    /// <summary>
    /// The divisor of the residual average: the seed's literal 1.414 rather than sqrt(2), so that its
    /// weights give its outputs here.
    /// </summary>
    public const float ResidualDivisor = 1.414f;

    /// <summary>y = cat([a, b], channels) for NCHW tensors of equal batch and size.</summary>
    public static void ConcatChannels(Tensor a, Tensor b, Tensor y) => ConcatChannels(a, b, y, parts: 0);

    // parts 0: as many as the size is worth; HalfRows asks for one part per half.
    internal static void ConcatChannels(Tensor a, Tensor b, Tensor y, int parts)
    {
        using var profile = Profiler.Measure(PConcatChannels);
        int batch = a.Dim(0);
        var body = new ConcatBody { A = a.Data, B = b.Data, Y = y.Data, SA = a.Length / batch, SB = b.Length / batch, Batch = batch };
        body.Parts = parts > 0 ? parts : Activations.PartsFor(batch, body.SA + body.SB);
        Workers.For(body.Parts, ref body);
    }

    private struct ConcatBody : IParallelBody
    {
        public float* A, B, Y;
        public long SA, SB;
        public int Batch, Parts;

        public readonly void Run(int part)
        {
            var (first, end) = Partition.Range(Batch, Parts, part);
            for (int n = first; n < end; n++)
            {
                new ReadOnlySpan<float>(A + n * SA, (int)SA).CopyTo(new Span<float>(Y + n * (SA + SB), (int)SA));
                new ReadOnlySpan<float>(B + n * SB, (int)SB).CopyTo(new Span<float>(Y + n * (SA + SB) + SA, (int)SB));
            }
        }
    }

    /// <summary>Splits gy into the two inputs' gradients, adding when accumulate is set.</summary>
    public static void ConcatChannelsBackward(Tensor gy, Tensor ga, Tensor gb, bool accumulateA, bool accumulateB)
    {
        using var profile = Profiler.Measure(PConcatChannelsBackward);
        int batch = ga.Dim(0);
        int sa = ga.Length / batch, sb = gb.Length / batch;
        for (int n = 0; n < batch; n++)
        {
            var srcA = new ReadOnlySpan<float>(gy.Data + (long)n * (sa + sb), sa);
            var srcB = new ReadOnlySpan<float>(gy.Data + (long)n * (sa + sb) + sa, sb);
            var dstA = new Span<float>(ga.Data + (long)n * sa, sa);
            var dstB = new Span<float>(gb.Data + (long)n * sb, sb);
            if (accumulateA) TensorPrimitives.Add(dstA, srcA, dstA); else srcA.CopyTo(dstA);
            if (accumulateB) TensorPrimitives.Add(dstB, srcB, dstB); else srcB.CopyTo(dstB);
        }
    }

    /// <summary>y = scale * x + shift with scale and shift of shape (B, C) broadcast over H and W.</summary>
    public static void ScaleShift(Tensor x, Tensor scale, Tensor shift, Tensor y)
    {
        using var profile = Profiler.Measure(PScaleShift);
        int planes = x.Dim(0) * x.Dim(1), hw = x.Dim(2) * x.Dim(3);
        var body = new ScaleShiftBody { X = x.Data, Scale = scale.Data, Shift = shift.Data, Y = y.Data, Planes = planes, HW = hw, Parts = Activations.PartsFor(planes, hw) };
        Workers.For(body.Parts, ref body);
    }

    private struct ScaleShiftBody : IParallelBody
    {
        public float* X, Scale, Shift, Y;
        public int Planes, HW, Parts;

        // A product then a sum, as the scalar tail (no fused multiply-add), so every width rounds alike.
        public readonly void Run(int part)
        {
            var (first, end) = Partition.Range(Planes, Parts, part);
            for (int p = first; p < end; p++)
            {
                float s = Scale[p], t = Shift[p];
                float* px = X + (long)p * HW, py = Y + (long)p * HW;
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<float> vs = Vector256.Create(s), vt = Vector256.Create(t);
                    for (; i + 8 <= HW; i += 8) (vs * Vector256.Load(px + i) + vt).Store(py + i);
                }
                for (; i < HW; i++) py[i] = s * px[i] + t;
            }
        }
    }

    /// <summary>
    /// The gradients of <see cref="ScaleShift"/>: overwrites gx with scale * gy, and gscale and gshift
    /// (B x C) with the sums over H x W of gy * x and of gy. Nothing accumulates.
    /// </summary>
    public static void ScaleShiftBackward(Tensor x, Tensor scale, Tensor gy, Tensor gx, Tensor gscale, Tensor gshift)
    {
        using var profile = Profiler.Measure(PScaleShiftBackward);
        int batch = x.Dim(0), c = x.Dim(1), hw = x.Dim(2) * x.Dim(3);
        for (int n = 0; n < batch; n++)
        for (int k = 0; k < c; k++)
        {
            long off = ((long)n * c + k) * hw;
            float s = scale.Data[n * c + k];
            float* px = x.Data + off, pg = gy.Data + off, po = gx.Data + off;
            float sumG = 0, sumGx = 0;
            for (int i = 0; i < hw; i++)
            {
                sumG += pg[i];
                sumGx += pg[i] * px[i];
                po[i] = s * pg[i];
            }
            gscale.Data[n * c + k] = sumGx;
            gshift.Data[n * c + k] = sumG;
        }
    }

    /// <summary>y = (a + b) / 1.414, the seed's residual average; y may be a or b.</summary>
    public static void Residual(Tensor a, Tensor b, Tensor y) => Residual(a, b, y, parts: 0);

    // parts 0: chunks of Activations.Chunk; else that many equal parts (HalfRows: one per half).
    internal static void Residual(Tensor a, Tensor b, Tensor y, int parts)
    {
        using var profile = Profiler.Measure(PResidual);
        int chunk = parts > 0 ? (y.Length + parts - 1) / parts : Activations.Chunk;
        var body = new ResidualBody { A = a.Data, B = b.Data, Y = y.Data, N = y.Length, Chunk = chunk };
        Workers.For((y.Length + chunk - 1) / chunk, ref body);
    }

    private struct ResidualBody : IParallelBody
    {
        public float* A, B, Y;
        public int N, Chunk;

        // A division, not a product with 1 / 1.414, in every lane: the seed's arithmetic, bit for bit.
        public readonly void Run(int chunk)
        {
            int i = chunk * Chunk, end = Math.Min(N, i + Chunk);
            if (Vector256.IsHardwareAccelerated)
            {
                var d = Vector256.Create(ResidualDivisor);
                for (; i + 8 <= end; i += 8) ((Vector256.Load(A + i) + Vector256.Load(B + i)) / d).Store(Y + i);
            }
            for (; i < end; i++) Y[i] = (A[i] + B[i]) / ResidualDivisor;
        }
    }

    /// <summary>
    /// Both inputs of the residual average receive gy / 1.414: one gradient, written over gy, that
    /// each branch then reads.
    /// </summary>
    public static void ResidualBackward(Tensor gy) => TensorPrimitives.Divide(gy.Span, ResidualDivisor, gy.Span);

    /// <summary>The mean squared error; writes d loss / d pred into grad when given.</summary>
    public static double MseLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, Span<float> grad)
    {
        double sum = 0;
        float scale = 2f / pred.Length;
        for (int i = 0; i < pred.Length; i++)
        {
            float d = pred[i] - target[i];
            sum += (double)d * d;
            if (!grad.IsEmpty) grad[i] = scale * d;
        }
        return sum / pred.Length;
    }
}
