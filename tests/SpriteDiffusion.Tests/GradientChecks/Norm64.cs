namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>
/// Float64 BatchNorm2d and GroupNorm (eps 1e-5, per-channel affine). Both normalise sets of
/// elements (BatchNorm: one channel over batch and space; GroupNorm: one image's channel group),
/// so both are written over a shared set normaliser whose backward is the step-by-step chain rule
/// through mean, variance and scale, deliberately not the compact closed form the engine uses.
/// </summary>
internal static class Norm64
{
    public const double Eps = 1e-5;

    /// <summary>Training-mode BatchNorm: y and each channel's batch mean, biased and unbiased variance.</summary>
    public static (double[] Y, double[] Mean, double[] BiasedVar, double[] UnbiasedVar) BatchNormTrain(
        double[] x, double[] gamma, double[] beta, int batch, int channels, int hw)
    {
        var sets = BatchNormSets(batch, channels, hw);
        var y = new double[x.Length];
        var mean = new double[channels];
        var biased = new double[channels];
        var unbiased = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            var (m, v) = NormalizeSet(x, gamma, beta, sets[c], _ => c, y);
            int n = sets[c].Length;
            mean[c] = m;
            biased[c] = v;
            unbiased[c] = n > 1 ? v * n / (n - 1) : v;
        }
        return (y, mean, biased, unbiased);
    }

    public static (double[] Gx, double[] Ggamma, double[] Gbeta) BatchNormTrainBackward(
        double[] x, double[] gamma, double[] gy, int batch, int channels, int hw)
    {
        var sets = BatchNormSets(batch, channels, hw);
        var gx = new double[x.Length];
        var ggamma = new double[channels];
        var gbeta = new double[channels];
        for (int c = 0; c < channels; c++) NormalizeSetBackward(x, gamma, gy, sets[c], _ => c, gx, ggamma, gbeta);
        return (gx, ggamma, gbeta);
    }

    /// <summary>Evaluation-mode BatchNorm: y = gamma (x - running mean) / sqrt(running var + eps) + beta.</summary>
    public static double[] BatchNormEval(double[] x, double[] gamma, double[] beta, double[] runMean, double[] runVar,
        int batch, int channels, int hw)
    {
        var y = new double[x.Length];
        for (int b = 0; b < batch; b++)
        for (int c = 0; c < channels; c++)
        for (int i = 0; i < hw; i++)
        {
            int at = (b * channels + c) * hw + i;
            y[at] = gamma[c] * (x[at] - runMean[c]) / Math.Sqrt(runVar[c] + Eps) + beta[c];
        }
        return y;
    }

    public static (double[] Gx, double[] Ggamma, double[] Gbeta) BatchNormEvalBackward(double[] x, double[] gamma,
        double[] runMean, double[] runVar, double[] gy, int batch, int channels, int hw)
    {
        var gx = new double[x.Length];
        var ggamma = new double[channels];
        var gbeta = new double[channels];
        for (int b = 0; b < batch; b++)
        for (int c = 0; c < channels; c++)
        for (int i = 0; i < hw; i++)
        {
            int at = (b * channels + c) * hw + i;
            double r = 1 / Math.Sqrt(runVar[c] + Eps);
            gx[at] = gy[at] * gamma[c] * r;
            ggamma[c] += gy[at] * (x[at] - runMean[c]) * r;
            gbeta[c] += gy[at];
        }
        return (gx, ggamma, gbeta);
    }

    public static double[] GroupNorm(double[] x, double[] gamma, double[] beta, int batch, int channels, int groups, int hw)
    {
        var y = new double[x.Length];
        foreach (var set in GroupNormSets(batch, channels, groups, hw)) NormalizeSet(x, gamma, beta, set, ChannelOf(channels, hw), y);
        return y;
    }

    public static (double[] Gx, double[] Ggamma, double[] Gbeta) GroupNormBackward(double[] x, double[] gamma, double[] gy,
        int batch, int channels, int groups, int hw)
    {
        var gx = new double[x.Length];
        var ggamma = new double[channels];
        var gbeta = new double[channels];
        foreach (var set in GroupNormSets(batch, channels, groups, hw))
            NormalizeSetBackward(x, gamma, gy, set, ChannelOf(channels, hw), gx, ggamma, gbeta);
        return (gx, ggamma, gbeta);
    }

    private static Func<int, int> ChannelOf(int channels, int hw) => at => at / hw % channels;

    private static int[][] BatchNormSets(int batch, int channels, int hw)
    {
        var sets = new int[channels][];
        for (int c = 0; c < channels; c++)
        {
            var list = new List<int>();
            for (int b = 0; b < batch; b++)
            for (int i = 0; i < hw; i++) list.Add((b * channels + c) * hw + i);
            sets[c] = [.. list];
        }
        return sets;
    }

    private static IEnumerable<int[]> GroupNormSets(int batch, int channels, int groups, int hw)
    {
        int perGroup = channels / groups;
        for (int b = 0; b < batch; b++)
        for (int g = 0; g < groups; g++)
        {
            var list = new List<int>();
            for (int c = g * perGroup; c < (g + 1) * perGroup; c++)
            for (int i = 0; i < hw; i++) list.Add((b * channels + c) * hw + i);
            yield return [.. list];
        }
    }

    /// <summary>Writes y over the set; returns its mean and biased variance.</summary>
    private static (double Mean, double Var) NormalizeSet(double[] x, double[] gamma, double[] beta, int[] set, Func<int, int> channelOf, double[] y)
    {
        int n = set.Length;
        double mean = 0;
        foreach (int at in set) mean += x[at];
        mean /= n;
        double variance = 0;
        foreach (int at in set) variance += (x[at] - mean) * (x[at] - mean);
        variance /= n;
        double r = 1 / Math.Sqrt(variance + Eps);
        foreach (int at in set)
        {
            int c = channelOf(at);
            y[at] = gamma[c] * (x[at] - mean) * r + beta[c];
        }
        return (mean, variance);
    }

    private static void NormalizeSetBackward(double[] x, double[] gamma, double[] gy, int[] set, Func<int, int> channelOf,
        double[] gx, double[] ggamma, double[] gbeta)
    {
        int n = set.Length;
        double mean = 0;
        foreach (int at in set) mean += x[at];
        mean /= n;
        double variance = 0;
        foreach (int at in set) variance += (x[at] - mean) * (x[at] - mean);
        variance /= n;
        double r = 1 / Math.Sqrt(variance + Eps);

        // y = gamma * xhat + beta, xhat = (x - mean) * r, r = (var + eps)^(-1/2), var = mean((x - mean)^2).
        double gVar = 0, gMean = 0, sumCentered = 0;
        foreach (int at in set)
        {
            int c = channelOf(at);
            double gXhat = gy[at] * gamma[c];
            ggamma[c] += gy[at] * (x[at] - mean) * r;
            gbeta[c] += gy[at];
            gVar += gXhat * (x[at] - mean) * -0.5 * r * r * r;
            gMean += -gXhat * r;
            sumCentered += x[at] - mean;
        }
        gMean += gVar * -2.0 * sumCentered / n;
        foreach (int at in set)
        {
            int c = channelOf(at);
            double gXhat = gy[at] * gamma[c];
            gx[at] = gXhat * r + gVar * 2.0 * (x[at] - mean) / n + gMean / n;
        }
    }
}
