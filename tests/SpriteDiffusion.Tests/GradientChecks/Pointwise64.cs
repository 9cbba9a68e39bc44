using SpecialFunctions = MathNet.Numerics.SpecialFunctions;

namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>Float64 activations, pooling, concatenation, broadcast scale-shift, residual average and MSE.</summary>
internal static class Pointwise64
{
    public const double ResidualDivisor = 1.414;

    /// <summary>Exact GELU: x * Phi(x), with Phi the standard normal CDF.</summary>
    public static double[] Gelu(double[] x) => x.Select(v => v * Phi(v)).ToArray();

    /// <summary>d/dx [x Phi(x)] = Phi(x) + x phi(x).</summary>
    public static double[] GeluBackward(double[] x, double[] gy) =>
        x.Select((v, i) => gy[i] * (Phi(v) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI))).ToArray();

    private static double Phi(double v) => 0.5 * (1 + SpecialFunctions.Erf(v / Math.Sqrt(2)));

    public static double[] Relu(double[] x) => x.Select(v => v > 0 ? v : 0).ToArray();

    public static double[] ReluBackward(double[] x, double[] gy) => x.Select((v, i) => v > 0 ? gy[i] : 0).ToArray();

    /// <summary>Max over non-overlapping 2x2 windows of each plane.</summary>
    public static double[] MaxPool2(double[] x, int planes, int height, int width)
    {
        int oh = height / 2, ow = width / 2;
        var y = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double best = double.NegativeInfinity;
            foreach (int at in Window(p, i, j, 2, height, width)) best = Math.Max(best, x[at]);
            y[(p * oh + i) * ow + j] = best;
        }
        return y;
    }

    /// <summary>Each window's gradient goes to its (unique, by construction of the inputs) maximum.</summary>
    public static double[] MaxPool2Backward(double[] x, double[] gy, int planes, int height, int width)
    {
        int oh = height / 2, ow = width / 2;
        var gx = new double[x.Length];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int arg = Window(p, i, j, 2, height, width).MaxBy(at => x[at]);
            gx[arg] += gy[(p * oh + i) * ow + j];
        }
        return gx;
    }

    public static double[] AvgPool(double[] x, int planes, int height, int width, int k)
    {
        int oh = height / k, ow = width / k;
        var y = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
            y[(p * oh + i) * ow + j] = Window(p, i, j, k, height, width).Average(at => x[at]);
        return y;
    }

    public static double[] AvgPoolBackward(double[] gy, int planes, int height, int width, int k)
    {
        int oh = height / k, ow = width / k;
        var gx = new double[planes * height * width];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
            foreach (int at in Window(p, i, j, k, height, width)) gx[at] += gy[(p * oh + i) * ow + j] / (k * k);
        return gx;
    }

    private static IEnumerable<int> Window(int plane, int i, int j, int k, int height, int width)
    {
        for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) yield return (plane * height + i * k + a) * width + j * k + b;
    }

    /// <summary>cat([a, b], dim=1) of (B, ca, H, W) and (B, cb, H, W).</summary>
    public static double[] Concat(double[] a, double[] b, int batch, int ca, int cb, int hw)
    {
        var y = new double[a.Length + b.Length];
        for (int n = 0; n < batch; n++)
        for (int c = 0; c < ca + cb; c++)
        for (int i = 0; i < hw; i++)
            y[(n * (ca + cb) + c) * hw + i] = c < ca ? a[(n * ca + c) * hw + i] : b[(n * cb + c - ca) * hw + i];
        return y;
    }

    public static (double[] Ga, double[] Gb) ConcatBackward(double[] gy, int batch, int ca, int cb, int hw)
    {
        var ga = new double[batch * ca * hw];
        var gb = new double[batch * cb * hw];
        for (int n = 0; n < batch; n++)
        for (int c = 0; c < ca + cb; c++)
        for (int i = 0; i < hw; i++)
        {
            double g = gy[(n * (ca + cb) + c) * hw + i];
            if (c < ca) ga[(n * ca + c) * hw + i] = g; else gb[(n * cb + c - ca) * hw + i] = g;
        }
        return (ga, gb);
    }

    /// <summary>y[n,c,:,:] = scale[n,c] * x[n,c,:,:] + shift[n,c].</summary>
    public static double[] ScaleShift(double[] x, double[] scale, double[] shift, int planes, int hw)
    {
        var y = new double[x.Length];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < hw; i++) y[p * hw + i] = scale[p] * x[p * hw + i] + shift[p];
        return y;
    }

    public static (double[] Gx, double[] Gscale, double[] Gshift) ScaleShiftBackward(double[] x, double[] scale, double[] gy, int planes, int hw)
    {
        var gx = new double[x.Length];
        var gscale = new double[planes];
        var gshift = new double[planes];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < hw; i++)
        {
            gx[p * hw + i] = scale[p] * gy[p * hw + i];
            gscale[p] += x[p * hw + i] * gy[p * hw + i];
            gshift[p] += gy[p * hw + i];
        }
        return (gx, gscale, gshift);
    }

    public static double[] Residual(double[] a, double[] b) => a.Select((v, i) => (v + b[i]) / ResidualDivisor).ToArray();

    public static double[] ResidualBackward(double[] gy) => gy.Select(g => g / ResidualDivisor).ToArray();

    /// <summary>mean((pred - target)^2), as a one-element output.</summary>
    public static double[] Mse(double[] pred, double[] target) => [pred.Select((p, i) => (p - target[i]) * (p - target[i])).Average()];

    public static (double[] Gpred, double[] Gtarget) MseBackward(double[] pred, double[] target, double gLoss)
    {
        var gp = pred.Select((p, i) => gLoss * 2 * (p - target[i]) / pred.Length).ToArray();
        return (gp, gp.Select(g => -g).ToArray());
    }
}
