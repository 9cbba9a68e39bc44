using System.Runtime.Intrinsics;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>
/// BatchNorm2d followed by GELU in two passes over memory instead of four: the normalised value
/// is never stored, since backward recomputes it from the convolution output and the statistics.
/// Every pass walks whole (image, channel) planes in memory order, split between the threads in
/// runs of planes (<see cref="PlaneRuns"/>): a channel's planes lie a whole image apart, and
/// walking them channel by channel defeated the prefetchers and left the second core idle.
/// Per-plane partial sums are combined per channel in image order, so results do not depend on
/// the thread count.
/// </summary>
public static unsafe class BatchNormGelu
{
    private static readonly int PForward = Profiler.Register("bn+gelu.forward");
    private static readonly int PBackward = Profiler.Register("bn+gelu.backward");

    /// <summary>a = GELU(BN(z)); updates the running statistics in training.</summary>
    public static void Forward(BatchNorm2d bn, Tensor z, Tensor a, bool training)
    {
        using var profile = Profiler.Measure(PForward);
        bn.SetStatistics(z, training);
        int hw = z.Dim(2) * z.Dim(3);
        var body = new ForwardBody
        {
            Z = z.Data, A = a.Data, Norm = Normalisation.Of(bn), C = bn.Channels, HW = hw,
            Runs = new PlaneRuns(z.Dim(0) * bn.Channels, hw),
        };
        Workers.For(body.Runs.Count, ref body);
    }

    /// <summary>From d loss / d a (overwritten) to d loss / d z, written into gz (which may be z).</summary>
    public static void Backward(BatchNorm2d bn, Tensor z, Tensor ga, Tensor gz, bool training)
    {
        using var profile = Profiler.Measure(PBackward);
        int batch = z.Dim(0), c = bn.Channels, hw = z.Dim(2) * z.Dim(3);
        // Per channel: mean(gu) and mean(gu * xhat); per plane: the two sums.
        float* means = Scratch.Get(ScratchSlot.PartialSums, 2L * c + 2L * batch * c); // owned by this (calling) thread
        float* planes = means + 2 * c;
        var norm = Normalisation.Of(bn);
        var runs = new PlaneRuns(batch * c, hw);
        var first = new GeluBackwardBody { Z = z.Data, GA = ga.Data, Norm = norm, Partial = planes, C = c, HW = hw, Runs = runs };
        Workers.For(runs.Count, ref first);
        float* gGamma = bn.Weight.Grad!.Data, gBeta = bn.Bias.Grad!.Data;
        long n = (long)batch * hw;
        for (int ch = 0; ch < c; ch++)
        {
            double sumG = 0, sumGX = 0;
            for (int b = 0; b < batch; b++)
            {
                float* p = planes + 2 * ((long)b * c + ch);
                sumG += p[0];
                sumGX += p[1];
            }
            gGamma[ch] += (float)sumGX;
            gBeta[ch] += (float)sumG;
            means[2 * ch] = (float)(sumG / n);
            means[2 * ch + 1] = (float)(sumGX / n);
        }
        var second = new NormBackwardBody { Z = z.Data, GA = ga.Data, GZ = gz.Data, Norm = norm, Means = means, C = c, HW = hw, Runs = runs, Training = training };
        Workers.For(runs.Count, ref second);
    }

    /// <summary>A BatchNorm's per-channel affine map, u = z * scale + shift with scale = gamma * rstd.</summary>
    private readonly struct Normalisation
    {
        private readonly float* _gamma, _beta, _mean, _rstd;

        private Normalisation(float* gamma, float* beta, float* mean, float* rstd)
        {
            _gamma = gamma;
            _beta = beta;
            _mean = mean;
            _rstd = rstd;
        }

        public static Normalisation Of(BatchNorm2d bn) =>
            new(bn.Weight.Value.Data, bn.Bias.Value.Data, bn.BatchMean.Data, bn.BatchRstd.Data);

        public float Mean(int c) => _mean[c];
        public float Rstd(int c) => _rstd[c];
        public float Scale(int c) => _gamma[c] * _rstd[c];
        public float Shift(int c) => _beta[c] - _mean[c] * Scale(c);
    }

    private struct ForwardBody : IParallelBody
    {
        public float* Z, A;
        public Normalisation Norm;
        public int C, HW;
        public PlaneRuns Runs;

        public void Run(int run)
        {
            var (start, end) = Runs[run];
            for (int plane = start; plane < end; plane++)
            {
                float scale = Norm.Scale(plane % C), shift = Norm.Shift(plane % C);
                float* z = Z + (long)plane * HW;
                float* a = A + (long)plane * HW;
                int i = 0;
                if (Activations.Wide)
                {
                    var ws = Vector512.Create(scale); var wt = Vector512.Create(shift);
                    for (; i + 16 <= HW; i += 16) Activations.Gelu(Vector512.FusedMultiplyAdd(Vector512.Load(z + i), ws, wt)).Store(a + i);
                }
                if (Vector256.IsHardwareAccelerated)
                {
                    var vs = Vector256.Create(scale); var vt = Vector256.Create(shift);
                    for (; i + 8 <= HW; i += 8) Activations.Gelu(Vector256.FusedMultiplyAdd(Vector256.Load(z + i), vs, vt)).Store(a + i);
                }
                for (; i < HW; i++) a[i] = Activations.Gelu(z[i] * scale + shift);
            }
        }
    }

    /// <summary>ga becomes d loss / d BN(z); per plane, its sum and its sum against the normalised z.</summary>
    private struct GeluBackwardBody : IParallelBody
    {
        public float* Z, GA, Partial;
        public Normalisation Norm;
        public int C, HW;
        public PlaneRuns Runs;

        public void Run(int run)
        {
            var (start, end) = Runs[run];
            for (int plane = start; plane < end; plane++)
            {
                int c = plane % C;
                float scale = Norm.Scale(c), shift = Norm.Shift(c), mean = Norm.Mean(c), rstd = Norm.Rstd(c);
                float* z = Z + (long)plane * HW;
                float* g = GA + (long)plane * HW;
                int i = 0;
                float sG = 0, sGX = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var vs = Vector256.Create(scale); var vt = Vector256.Create(shift);
                    var vm = Vector256.Create(mean); var vr = Vector256.Create(rstd);
                    var accG = Vector256<float>.Zero; var accGX = Vector256<float>.Zero;
                    for (; i + 8 <= HW; i += 8)
                    {
                        var vz = Vector256.Load(z + i);
                        var gu = Vector256.Load(g + i) * Activations.GeluDerivative(Vector256.FusedMultiplyAdd(vz, vs, vt));
                        gu.Store(g + i);
                        accG += gu;
                        accGX = Vector256.FusedMultiplyAdd(gu, (vz - vm) * vr, accGX);
                    }
                    sG = Vector256.Sum(accG);
                    sGX = Vector256.Sum(accGX);
                }
                for (; i < HW; i++)
                {
                    float gu = g[i] * Activations.GeluDerivative(z[i] * scale + shift);
                    g[i] = gu;
                    sG += gu;
                    sGX += gu * ((z[i] - mean) * rstd);
                }
                Partial[2 * plane] = sG;
                Partial[2 * plane + 1] = sGX;
            }
        }
    }

    /// <summary>d loss / d z from d loss / d BN(z): through the batch statistics in training, a plain scale in evaluation.</summary>
    private struct NormBackwardBody : IParallelBody
    {
        public float* Z, GA, GZ, Means;
        public Normalisation Norm;
        public int C, HW;
        public PlaneRuns Runs;
        public bool Training;

        public void Run(int run)
        {
            var (start, end) = Runs[run];
            for (int plane = start; plane < end; plane++)
            {
                int c = plane % C;
                float mean = Norm.Mean(c), rstd = Norm.Rstd(c), k = Norm.Scale(c), mG = Means[2 * c], mGX = Means[2 * c + 1];
                float* z = Z + (long)plane * HW;
                float* g = GA + (long)plane * HW;
                float* o = GZ + (long)plane * HW;
                int i = 0;
                var vk = Vector256.Create(k);
                if (Training)
                {
                    if (Vector256.IsHardwareAccelerated)
                    {
                        var vm = Vector256.Create(mean); var vr = Vector256.Create(rstd);
                        var vmG = Vector256.Create(mG); var vmGX = Vector256.Create(mGX);
                        for (; i + 8 <= HW; i += 8)
                        {
                            var xhat = (Vector256.Load(z + i) - vm) * vr;
                            (vk * (Vector256.Load(g + i) - vmG - xhat * vmGX)).Store(o + i);
                        }
                    }
                    for (; i < HW; i++) o[i] = k * (g[i] - mG - (z[i] - mean) * rstd * mGX);
                }
                else
                {
                    if (Vector256.IsHardwareAccelerated)
                        for (; i + 8 <= HW; i += 8) (vk * Vector256.Load(g + i)).Store(o + i);
                    for (; i < HW; i++) o[i] = k * g[i];
                }
            }
        }
    }
}

/// <summary>Vectorised reductions with a fixed summation order (eight float lanes, then the lanes in order).</summary>
internal static unsafe class Reductions
{
    public static double Sum(float* p, int n)
    {
        int i = 0;
        float s = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) acc += Vector256.Load(p + i);
            s = Vector256.Sum(acc);
        }
        for (; i < n; i++) s += p[i];
        return s;
    }

    public static double SumSquaredDeviation(float* p, int n, float mean)
    {
        int i = 0;
        float s = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            var vm = Vector256.Create(mean);
            for (; i + 8 <= n; i += 8) { var d = Vector256.Load(p + i) - vm; acc = Vector256.FusedMultiplyAdd(d, d, acc); }
            s = Vector256.Sum(acc);
        }
        for (; i < n; i++) { float d = p[i] - mean; s += d * d; }
        return s;
    }
}
