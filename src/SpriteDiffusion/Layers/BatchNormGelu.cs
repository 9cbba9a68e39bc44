using System.Runtime.Intrinsics;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>
/// BatchNorm2d followed by GELU in two passes over memory instead of four: the normalised value
/// is never stored, since backward recomputes it from the convolution output and the statistics.
/// Every pass walks whole (image, channel) planes in memory order, split between the threads
/// in runs of planes: a channel's planes lie a whole image apart, and walking them channel by
/// channel defeated the prefetchers and left the second core idle. Per-plane partial sums are
/// combined per channel in image order, so results do not depend on the thread count.
/// </summary>
public static unsafe class BatchNormGelu
{
    private static readonly int PForward = Profiler.Register("bn+gelu.forward");
    private static readonly int PBackward = Profiler.Register("bn+gelu.backward");

    // Floats per work item: enough for the dispatch to vanish, small enough to balance the two cores.
    private const int ItemFloats = 8192;

    /// <summary>a = GELU(BN(z)); updates the running statistics in training.</summary>
    public static void Forward(BatchNorm2d bn, Tensor z, Tensor a, bool training)
    {
        using var profile = Profiler.Measure(PForward);
        int batch = z.Dim(0), c = bn.Channels, hw = z.Dim(2) * z.Dim(3);
        float* mean = bn.BatchMean.Data, rstd = bn.BatchRstd.Data;
        // Per channel: scale, shift; then per plane: sum, squared deviation from the plane's mean.
        float* coefficients = Scratch.Get(3, 2L * c + 2L * batch * c); // owned by this (calling) thread
        float* planes = coefficients + 2 * c;
        var runs = new PlaneRuns(batch * c, hw);
        if (training)
        {
            var stats = new StatisticsBody { Z = z.Data, Partial = planes, HW = hw, Runs = runs };
            Workers.For(runs.Count, ref stats);
            for (int ch = 0; ch < c; ch++)
                CombineStatistics(planes, batch, c, hw, ch, bn.RunningMean.Value.Data, bn.RunningVar.Value.Data, out mean[ch], out rstd[ch]);
            bn.BatchesTracked.Count++;
        }
        else
        {
            for (int ch = 0; ch < c; ch++)
            {
                mean[ch] = bn.RunningMean.Value.Data[ch];
                rstd[ch] = (float)(1.0 / Math.Sqrt(bn.RunningVar.Value.Data[ch] + (double)BatchNorm2d.Eps));
            }
        }
        float* gamma = bn.Weight.Value.Data, beta = bn.Bias.Value.Data;
        for (int ch = 0; ch < c; ch++)
        {
            float scale = gamma[ch] * rstd[ch];
            coefficients[2 * ch] = scale;
            coefficients[2 * ch + 1] = beta[ch] - mean[ch] * scale;
        }
        var body = new ForwardBody { Z = z.Data, A = a.Data, Coefficients = coefficients, C = c, HW = hw, Runs = runs };
        Workers.For(runs.Count, ref body);
    }

    /// <summary>
    /// The batch statistics of channel c from its planes' sums and squared deviations (Chan et
    /// al.'s pairwise combination, in double), moving the running statistics as PyTorch does.
    /// </summary>
    private static void CombineStatistics(float* planes, int batch, int channels, int hw, int c,
        float* runningMean, float* runningVar, out float mean, out float rstd)
    {
        double sum = 0;
        for (int b = 0; b < batch; b++) sum += planes[2 * ((long)b * channels + c)];
        long n = (long)batch * hw;
        double m = sum / n, sq = 0;
        for (int b = 0; b < batch; b++)
        {
            float* p = planes + 2 * ((long)b * channels + c);
            double d = (double)p[0] / hw - m;
            sq += p[1] + hw * d * d;
        }
        mean = (float)m;
        double biased = sq / n;
        rstd = (float)(1.0 / Math.Sqrt(biased + BatchNorm2d.Eps));
        double unbiased = n > 1 ? sq / (n - 1) : biased;
        runningMean[c] = (float)((1 - BatchNorm2d.Momentum) * runningMean[c] + BatchNorm2d.Momentum * m);
        runningVar[c] = (float)((1 - BatchNorm2d.Momentum) * runningVar[c] + BatchNorm2d.Momentum * unbiased);
    }

    /// <summary>From d loss / d a (overwritten) to d loss / d z, written into gz (which may be z).</summary>
    public static void Backward(BatchNorm2d bn, Tensor z, Tensor ga, Tensor gz, bool training)
    {
        using var profile = Profiler.Measure(PBackward);
        int batch = z.Dim(0), c = bn.Channels, hw = z.Dim(2) * z.Dim(3);
        float* mean = bn.BatchMean.Data, rstd = bn.BatchRstd.Data, gamma = bn.Weight.Value.Data, beta = bn.Bias.Value.Data;
        // Per channel: scale, shift, mean, rstd, then k, mean(gu), mean(gu * xhat); per plane: the two sums.
        float* coefficients = Scratch.Get(3, 7L * c + 2L * batch * c); // owned by this (calling) thread
        float* planes = coefficients + 7 * c;
        for (int ch = 0; ch < c; ch++)
        {
            float scale = gamma[ch] * rstd[ch];
            float* k = coefficients + 7 * ch;
            (k[0], k[1], k[2], k[3]) = (scale, beta[ch] - mean[ch] * scale, mean[ch], rstd[ch]);
        }
        var runs = new PlaneRuns(batch * c, hw);
        var first = new GeluBackwardBody { Z = z.Data, GA = ga.Data, Coefficients = coefficients, Partial = planes, C = c, HW = hw, Runs = runs };
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
            float* k = coefficients + 7 * ch;
            (k[4], k[5], k[6]) = (gamma[ch] * rstd[ch], (float)(sumG / n), (float)(sumGX / n));
        }
        var second = new NormBackwardBody { Z = z.Data, GA = ga.Data, GZ = gz.Data, Coefficients = coefficients, C = c, HW = hw, Runs = runs, Training = training };
        Workers.For(runs.Count, ref second);
    }

    /// <summary>Planes [0, planes) of hw floats each, cut into Count runs of whole planes.</summary>
    private readonly struct PlaneRuns
    {
        private readonly int _planes, _perRun;

        public PlaneRuns(int planes, int hw)
        {
            _planes = planes;
            _perRun = Math.Max(1, ItemFloats / Math.Max(1, hw));
        }

        public int Count => (_planes + _perRun - 1) / _perRun;
        public (int Start, int End) this[int run] => (run * _perRun, Math.Min(_planes, (run + 1) * _perRun));
    }

    private struct StatisticsBody : IParallelBody
    {
        public float* Z, Partial;
        public int HW;
        public PlaneRuns Runs;

        public void Run(int run)
        {
            var (start, end) = Runs[run];
            for (int plane = start; plane < end; plane++)
            {
                float* z = Z + (long)plane * HW;
                float sum = (float)Reductions.Sum(z, HW);
                Partial[2 * plane] = sum;
                Partial[2 * plane + 1] = (float)Reductions.SumSquaredDeviation(z, HW, sum / HW);
            }
        }
    }

    private struct ForwardBody : IParallelBody
    {
        public float* Z, A, Coefficients;
        public int C, HW;
        public PlaneRuns Runs;

        public void Run(int run)
        {
            var (start, end) = Runs[run];
            for (int plane = start; plane < end; plane++)
            {
                float scale = Coefficients[2 * (plane % C)], shift = Coefficients[2 * (plane % C) + 1];
                float* z = Z + (long)plane * HW;
                float* a = A + (long)plane * HW;
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var vs = Vector256.Create(scale); var vt = Vector256.Create(shift);
                    for (; i + 8 <= HW; i += 8) Activations.Gelu(Vector256.FusedMultiplyAdd(Vector256.Load(z + i), vs, vt)).Store(a + i);
                }
                for (; i < HW; i++)
                {
                    float u = z[i] * scale + shift;
                    a[i] = 0.5f * u * (1f + Activations.Erf(u * 0.70710678118654752f));
                }
            }
        }
    }

    /// <summary>ga becomes d loss / d BN(z); per plane, its sum and its sum against the normalised z.</summary>
    private struct GeluBackwardBody : IParallelBody
    {
        public float* Z, GA, Coefficients, Partial;
        public int C, HW;
        public PlaneRuns Runs;

        public void Run(int run)
        {
            var (start, end) = Runs[run];
            for (int plane = start; plane < end; plane++)
            {
                float* k = Coefficients + 7 * (plane % C);
                float scale = k[0], shift = k[1], mean = k[2], rstd = k[3];
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
                    float u = z[i] * scale + shift;
                    float cdf = 0.5f * (1f + Activations.Erf(u * 0.70710678118654752f));
                    float pdf = 0.39894228040143268f * MathF.Exp(-0.5f * u * u);
                    float gu = g[i] * (cdf + u * pdf);
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
        public float* Z, GA, GZ, Coefficients;
        public int C, HW;
        public PlaneRuns Runs;
        public bool Training;

        public void Run(int run)
        {
            var (start, end) = Runs[run];
            for (int plane = start; plane < end; plane++)
            {
                float* c = Coefficients + 7 * (plane % C);
                float mean = c[2], rstd = c[3], k = c[4], mG = c[5], mGX = c[6];
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
