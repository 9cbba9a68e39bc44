using System.Runtime.Intrinsics;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>
/// BatchNorm2d followed by GELU in two passes over memory instead of four: the normalised value
/// is never stored, since backward recomputes it from the convolution output and the statistics.
/// </summary>
public static unsafe class BatchNormGelu
{
    private static readonly int PForward = Profiler.Register("bn+gelu.forward");
    private static readonly int PBackward = Profiler.Register("bn+gelu.backward");

    /// <summary>a = GELU(BN(z)); updates the running statistics in training.</summary>
    public static void Forward(BatchNorm2d bn, Tensor z, Tensor a, bool training)
    {
        using var profile = Profiler.Measure(PForward);
        var body = new ForwardBody
        {
            Z = z.Data, A = a.Data, Gamma = bn.Weight.Value.Data, Beta = bn.Bias.Value.Data,
            Mean = bn.BatchMean.Data, Rstd = bn.BatchRstd.Data, RunMean = bn.RunningMean.Value.Data, RunVar = bn.RunningVar.Value.Data,
            Batch = z.Dim(0), C = bn.Channels, HW = z.Dim(2) * z.Dim(3), Training = training,
        };
        Workers.For(bn.Channels, ref body);
        if (training) bn.BatchesTracked.Count++;
    }

    /// <summary>From d loss / d a (overwritten) to d loss / d z, written into gz (which may be z).</summary>
    public static void Backward(BatchNorm2d bn, Tensor z, Tensor ga, Tensor gz, bool training)
    {
        using var profile = Profiler.Measure(PBackward);
        var body = new BackwardBody
        {
            Z = z.Data, GA = ga.Data, GZ = gz.Data, Gamma = bn.Weight.Value.Data, Beta = bn.Bias.Value.Data,
            GGamma = bn.Weight.Grad!.Data, GBeta = bn.Bias.Grad!.Data, Mean = bn.BatchMean.Data, Rstd = bn.BatchRstd.Data,
            Batch = z.Dim(0), C = bn.Channels, HW = z.Dim(2) * z.Dim(3), Training = training,
        };
        Workers.For(bn.Channels, ref body);
    }

    private struct ForwardBody : IParallelBody
    {
        public float* Z, A, Gamma, Beta, Mean, Rstd, RunMean, RunVar;
        public int Batch, C, HW;
        public bool Training;

        public void Run(int c)
        {
            long stride = (long)C * HW;
            BatchNorm2d.Statistics(Z, Batch, C, HW, c, Training, RunMean, RunVar, out float mean, out float rstd);
            Mean[c] = mean;
            Rstd[c] = rstd;
            float scale = Gamma[c] * rstd, shift = Beta[c] - mean * scale;
            var vs = Vector256.Create(scale); var vt = Vector256.Create(shift);
            for (int b = 0; b < Batch; b++)
            {
                float* z = Z + b * stride + (long)c * HW;
                float* a = A + b * stride + (long)c * HW;
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                    for (; i + 8 <= HW; i += 8) Activations.Gelu(Vector256.FusedMultiplyAdd(Vector256.Load(z + i), vs, vt)).Store(a + i);
                for (; i < HW; i++)
                {
                    float u = z[i] * scale + shift;
                    a[i] = 0.5f * u * (1f + Activations.Erf(u * 0.70710678118654752f));
                }
            }
        }
    }

    private struct BackwardBody : IParallelBody
    {
        public float* Z, GA, GZ, Gamma, Beta, GGamma, GBeta, Mean, Rstd;
        public int Batch, C, HW;
        public bool Training;

        public void Run(int c)
        {
            long stride = (long)C * HW;
            float mean = Mean[c], rstd = Rstd[c], gamma = Gamma[c];
            float scale = gamma * rstd, shift = Beta[c] - mean * scale;
            var vs = Vector256.Create(scale); var vt = Vector256.Create(shift);
            var vm = Vector256.Create(mean); var vr = Vector256.Create(rstd);
            double sumG = 0, sumGX = 0;
            for (int b = 0; b < Batch; b++)
            {
                float* z = Z + b * stride + (long)c * HW;
                float* g = GA + b * stride + (long)c * HW;
                int i = 0;
                var accG = Vector256<float>.Zero; var accGX = Vector256<float>.Zero;
                if (Vector256.IsHardwareAccelerated)
                    for (; i + 8 <= HW; i += 8)
                    {
                        var vz = Vector256.Load(z + i);
                        var gu = Vector256.Load(g + i) * Activations.GeluDerivative(Vector256.FusedMultiplyAdd(vz, vs, vt));
                        gu.Store(g + i);
                        accG += gu;
                        accGX = Vector256.FusedMultiplyAdd(gu, (vz - vm) * vr, accGX);
                    }
                float sG = Vector256.Sum(accG), sGX = Vector256.Sum(accGX);
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
                sumG += sG;
                sumGX += sGX;
            }
            GGamma[c] += (float)sumGX;
            GBeta[c] += (float)sumG;
            long n = (long)Batch * HW;
            float k = gamma * rstd, mG = (float)(sumG / n), mGX = (float)(sumGX / n);
            var vk = Vector256.Create(k); var vmG = Vector256.Create(mG); var vmGX = Vector256.Create(mGX);
            for (int b = 0; b < Batch; b++)
            {
                float* z = Z + b * stride + (long)c * HW;
                float* g = GA + b * stride + (long)c * HW;
                float* o = GZ + b * stride + (long)c * HW;
                int i = 0;
                if (Training)
                {
                    if (Vector256.IsHardwareAccelerated)
                        for (; i + 8 <= HW; i += 8)
                        {
                            var xhat = (Vector256.Load(z + i) - vm) * vr;
                            (vk * (Vector256.Load(g + i) - vmG - xhat * vmGX)).Store(o + i);
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
