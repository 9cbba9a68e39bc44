using System.Runtime.Intrinsics;
using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>GroupNorm (eps 1e-5) with a per-channel affine: statistics per image and channel group.</summary>
public sealed unsafe class GroupNorm
{
    private static readonly int PForward = Profiler.Register("groupnorm.forward");
    private static readonly int PBackward = Profiler.Register("groupnorm.backward");

    /// <summary>Added to each group's variance under the square root: PyTorch's default.</summary>
    public const float Eps = 1e-5f;
    private Tensor _mean = Tensor.Zeros(1), _rstd = Tensor.Zeros(1);

    /// <summary>
    /// Registers <c>name.weight</c> (1s) and <c>name.bias</c> (0s), one per channel. Throws
    /// <see cref="ArgumentException"/> when the channels do not split evenly into the groups.
    /// </summary>
    public GroupNorm(ParameterStore store, string name, int groups, int channels)
    {
        if (channels % groups != 0) throw new ArgumentException($"{channels} channels do not split into {groups} groups");
        Groups = groups; Channels = channels;
        Weight = store.AddConstant(name + ".weight", [channels], 1f);
        Bias = store.AddConstant(name + ".bias", [channels], 0f);
    }

    /// <summary>How many groups of Channels / Groups consecutive channels share their statistics.</summary>
    public int Groups { get; }
    /// <summary>The number of channels normalised (dimension 1 of the input).</summary>
    public int Channels { get; }
    /// <summary>The per-channel scale, initially 1.</summary>
    public StateEntry Weight { get; }
    /// <summary>The per-channel shift, initially 0.</summary>
    public StateEntry Bias { get; }

    /// <summary>
    /// Normalises each image's channel groups of x (N x C x H x W) by their own mean and biased
    /// variance, then applies the per-channel affine, overwriting y. Keeps the statistics for <see cref="Backward"/>.
    /// </summary>
    public void Forward(Tensor x, Tensor y)
    {
        using var profile = Profiler.Measure(PForward);
        int batch = x.Dim(0);
        if (_mean.Length < batch * Groups) { _mean = Tensor.Zeros(batch * Groups); _rstd = Tensor.Zeros(batch * Groups); }
        var body = new ForwardBody
        {
            X = x.Data, Y = y.Data, Gamma = Weight.Value.Data, Beta = Bias.Value.Data, Mean = _mean.Data, Rstd = _rstd.Data,
            C = Channels, G = Groups, HW = x.Dim(2) * x.Dim(3),
        };
        Workers.For(batch, ref body);
    }

    /// <summary>
    /// Adds the scale and shift gradients and overwrites gx with the input gradient, with the
    /// statistics of the last <see cref="Forward"/>, which must have been on this x. gx may share storage with gy.
    /// </summary>
    public void Backward(Tensor x, Tensor gy, Tensor gx)
    {
        using var profile = Profiler.Measure(PBackward);
        var affine = new AffineGradBody
        {
            X = x.Data, GY = gy.Data, GGamma = Weight.Grad!.Data, GBeta = Bias.Grad!.Data, Mean = _mean.Data, Rstd = _rstd.Data,
            Batch = x.Dim(0), C = Channels, G = Groups, HW = x.Dim(2) * x.Dim(3),
        };
        Workers.For(Channels, ref affine);
        var body = new BackwardBody
        {
            X = x.Data, GY = gy.Data, GX = gx.Data, Gamma = Weight.Value.Data, Mean = _mean.Data, Rstd = _rstd.Data,
            C = Channels, G = Groups, HW = x.Dim(2) * x.Dim(3),
        };
        Workers.For(x.Dim(0), ref body);
    }

    private struct ForwardBody : IParallelBody
    {
        public float* X, Y, Gamma, Beta, Mean, Rstd;
        public int C, G, HW;

        public void Run(int b)
        {
            int cpg = C / G, n = cpg * HW;
            for (int g = 0; g < G; g++)
            {
                float* x = X + ((long)b * C + g * cpg) * HW;
                float* y = Y + ((long)b * C + g * cpg) * HW;
                double m = Sum(x, n) / n;
                float mean = (float)m, rstd = (float)(1.0 / Math.Sqrt(SquaredDeviations(x, n, m) / n + Eps));
                Mean[b * G + g] = mean;
                Rstd[b * G + g] = rstd;
                for (int c = 0; c < cpg; c++)
                {
                    float scale = Gamma[g * cpg + c] * rstd, shift = Beta[g * cpg + c] - mean * scale;
                    float* xs = x + c * HW;
                    float* ys = y + c * HW;
                    int i = 0;
                    // A product then a sum, as the scalar tail, so every width rounds alike.
                    if (Vector256.IsHardwareAccelerated)
                    {
                        Vector256<float> vs = Vector256.Create(scale), vt = Vector256.Create(shift);
                        for (; i + 8 <= HW; i += 8) (Vector256.Load(xs + i) * vs + vt).Store(ys + i);
                    }
                    for (; i < HW; i++) ys[i] = xs[i] * scale + shift;
                }
            }
        }
    }

    // The group statistics in float64, eight running sums (two vectors of four lanes for the eight
    // floats of a load): a group is a few thousand values, and a scalar float64 loop made GroupNorm a
    // few per cent of a sampling step. The sums are combined in one fixed order, and the scalar
    // path keeps the same eight sums, so every machine gets the same bits.
    /// <summary>Whether the statistics use the vector path; tests turn it off to compare the two, which agree bit for bit.</summary>
    internal static bool VectorStatistics { get; set; } = Vector256.IsHardwareAccelerated;

    private static double Sum(float* x, int n) => Total<Value>(x, n, 0);

    private static double SquaredDeviations(float* x, int n, double mean) => Total<SquaredDeviation>(x, n, mean);

    private interface ITerm
    {
        static abstract double Of(double x, double mean);
        static abstract Vector256<double> Of(Vector256<double> x, Vector256<double> mean);
    }

    private struct Value : ITerm
    {
        public static double Of(double x, double mean) => x;
        public static Vector256<double> Of(Vector256<double> x, Vector256<double> mean) => x;
    }

    private struct SquaredDeviation : ITerm
    {
        public static double Of(double x, double mean) { double d = x - mean; return d * d; }
        public static Vector256<double> Of(Vector256<double> x, Vector256<double> mean) { var d = x - mean; return d * d; }
    }

    // The sum of T's term over x: eight running sums (lane k holds elements k, k + 8, ...), then
    // (s0 + s1) + (s2 + s3) with s_k = lane k + lane k + 4, then the tail in order.
    private static double Total<T>(float* x, int n, double mean) where T : ITerm
    {
        int i = 0;
        double s0, s1, s2, s3;
        if (VectorStatistics)
        {
            Vector256<double> a0 = Vector256<double>.Zero, a1 = Vector256<double>.Zero, m = Vector256.Create(mean);
            for (; i + 8 <= n; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(x + i));
                a0 += T.Of(lo, m); a1 += T.Of(hi, m);
            }
            var a = a0 + a1;
            (s0, s1, s2, s3) = (a.GetElement(0), a.GetElement(1), a.GetElement(2), a.GetElement(3));
        }
        else
        {
            Span<double> l = stackalloc double[8];
            l.Clear();
            for (; i + 8 <= n; i += 8)
                for (int k = 0; k < 8; k++) l[k] += T.Of(x[i + k], mean);
            (s0, s1, s2, s3) = (l[0] + l[4], l[1] + l[5], l[2] + l[6], l[3] + l[7]);
        }
        double sum = (s0 + s1) + (s2 + s3);
        for (; i < n; i++) sum += T.Of(x[i], mean);
        return sum;
    }

    private struct AffineGradBody : IParallelBody
    {
        public float* X, GY, GGamma, GBeta, Mean, Rstd;
        public int Batch, C, G, HW;

        public void Run(int c)
        {
            int g = c / (C / G);
            double sumGy = 0, sumGyXhat = 0;
            for (int b = 0; b < Batch; b++)
            {
                float mean = Mean[b * G + g], rstd = Rstd[b * G + g];
                float* x = X + ((long)b * C + c) * HW;
                float* gy = GY + ((long)b * C + c) * HW;
                for (int i = 0; i < HW; i++) { sumGy += gy[i]; sumGyXhat += gy[i] * ((x[i] - mean) * rstd); }
            }
            GGamma[c] += (float)sumGyXhat;
            GBeta[c] += (float)sumGy;
        }
    }

    private struct BackwardBody : IParallelBody
    {
        public float* X, GY, GX, Gamma, Mean, Rstd;
        public int C, G, HW;

        public void Run(int b)
        {
            int cpg = C / G, n = cpg * HW;
            for (int g = 0; g < G; g++)
            {
                float mean = Mean[b * G + g], rstd = Rstd[b * G + g];
                long off = ((long)b * C + g * cpg) * HW;
                float* x = X + off, gy = GY + off, gx = GX + off;
                double s1 = 0, s2 = 0;
                for (int c = 0; c < cpg; c++)
                {
                    float gamma = Gamma[g * cpg + c];
                    for (int i = 0; i < HW; i++)
                    {
                        int j = c * HW + i;
                        float gh = gy[j] * gamma;
                        s1 += gh;
                        s2 += gh * ((x[j] - mean) * rstd);
                    }
                }
                float m1 = (float)(s1 / n), m2 = (float)(s2 / n);
                for (int c = 0; c < cpg; c++)
                {
                    float gamma = Gamma[g * cpg + c];
                    for (int i = 0; i < HW; i++)
                    {
                        int j = c * HW + i;
                        gx[j] = rstd * (gy[j] * gamma - m1 - (x[j] - mean) * rstd * m2);
                    }
                }
            }
        }
    }
}
