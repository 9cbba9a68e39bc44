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
    public static void ConcatChannels(Tensor a, Tensor b, Tensor y)
    {
        using var profile = Profiler.Measure(PConcatChannels);
        int batch = a.Dim(0);
        long sa = a.Length / batch, sb = b.Length / batch;
        for (int n = 0; n < batch; n++)
        {
            new ReadOnlySpan<float>(a.Data + n * sa, (int)sa).CopyTo(new Span<float>(y.Data + n * (sa + sb), (int)sa));
            new ReadOnlySpan<float>(b.Data + n * sb, (int)sb).CopyTo(new Span<float>(y.Data + n * (sa + sb) + sa, (int)sb));
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
        int batch = x.Dim(0), c = x.Dim(1), hw = x.Dim(2) * x.Dim(3);
        for (int n = 0; n < batch; n++)
        for (int k = 0; k < c; k++)
        {
            long off = ((long)n * c + k) * hw;
            float s = scale.Data[n * c + k], t = shift.Data[n * c + k];
            float* px = x.Data + off, py = y.Data + off;
            for (int i = 0; i < hw; i++) py[i] = s * px[i] + t;
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

    /// <summary>y = (a + b) / 1.414, the seed's residual average.</summary>
    public static void Residual(Tensor a, Tensor b, Tensor y)
    {
        using var profile = Profiler.Measure(PResidual);
        float* pa = a.Data, pb = b.Data, py = y.Data;
        for (int i = 0; i < y.Length; i++) py[i] = (pa[i] + pb[i]) / ResidualDivisor;
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
