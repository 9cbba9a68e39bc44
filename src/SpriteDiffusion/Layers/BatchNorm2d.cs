using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Layers;

/// <summary>
/// BatchNorm2d with PyTorch's semantics: in training, normalise by the batch's biased variance and
/// move the running statistics (momentum 0.1) toward the mean and the unbiased variance; in
/// evaluation, normalise by the running statistics.
/// </summary>
public sealed unsafe class BatchNorm2d
{
    private static readonly int PForward = Profiler.Register("batchnorm.forward");
    private static readonly int PBackward = Profiler.Register("batchnorm.backward");

    public const float Eps = 1e-5f;
    public const float Momentum = 0.1f;
    private readonly Tensor _mean, _rstd;

    public BatchNorm2d(ParameterStore store, string name, int channels)
    {
        Channels = channels;
        Weight = store.AddConstant(name + ".weight", [channels], 1f);
        Bias = store.AddConstant(name + ".bias", [channels], 0f);
        RunningMean = store.AddBuffer(name + ".running_mean", [channels], 0f);
        RunningVar = store.AddBuffer(name + ".running_var", [channels], 1f);
        BatchesTracked = store.AddCounter(name + ".num_batches_tracked");
        _mean = Tensor.Zeros(channels);
        _rstd = Tensor.Zeros(channels);
    }

    public int Channels { get; }
    public StateEntry Weight { get; }
    public StateEntry Bias { get; }
    public StateEntry RunningMean { get; }
    public StateEntry RunningVar { get; }
    public StateEntry BatchesTracked { get; }
    /// <summary>The statistics the last forward pass normalised with (for backward).</summary>
    internal Tensor BatchMean => _mean;
    internal Tensor BatchRstd => _rstd;

    public void Forward(Tensor x, Tensor y, bool training)
    {
        using var profile = Profiler.Measure(PForward);
        int batch = x.Dim(0), hw = x.Dim(2) * x.Dim(3);
        var body = new ForwardBody
        {
            X = x.Data, Y = y.Data, Gamma = Weight.Value.Data, Beta = Bias.Value.Data,
            Mean = _mean.Data, Rstd = _rstd.Data, RunMean = RunningMean.Value.Data, RunVar = RunningVar.Value.Data,
            Batch = batch, C = Channels, HW = hw, Training = training,
        };
        Workers.For(Channels, ref body);
        if (training) BatchesTracked.Count++;
    }

    /// <summary>x is the forward input; gx may alias gy.</summary>
    public void Backward(Tensor x, Tensor gy, Tensor gx, bool training)
    {
        using var profile = Profiler.Measure(PBackward);
        var body = new BackwardBody
        {
            X = x.Data, GY = gy.Data, GX = gx.Data, Gamma = Weight.Value.Data,
            GGamma = Weight.Grad!.Data, GBeta = Bias.Grad!.Data, Mean = _mean.Data, Rstd = _rstd.Data,
            Batch = x.Dim(0), C = Channels, HW = x.Dim(2) * x.Dim(3), Training = training,
        };
        Workers.For(Channels, ref body);
    }

    /// <summary>
    /// The mean and 1/sqrt(var + eps) that channel c is normalised with: the batch's (biased
    /// variance), also moving the running statistics toward the mean and unbiased variance, in
    /// training; the running statistics otherwise.
    /// </summary>
    internal static void Statistics(float* x, int batch, int channels, int hw, int c, bool training,
        float* runningMean, float* runningVar, out float mean, out float rstd)
    {
        long stride = (long)channels * hw;
        if (!training)
        {
            mean = runningMean[c];
            rstd = (float)(1.0 / Math.Sqrt(runningVar[c] + (double)Eps));
            return;
        }
        double sum = 0;
        for (int b = 0; b < batch; b++) sum += Reductions.Sum(x + b * stride + (long)c * hw, hw);
        long n = (long)batch * hw;
        mean = (float)(sum / n);
        double sq = 0;
        for (int b = 0; b < batch; b++) sq += Reductions.SumSquaredDeviation(x + b * stride + (long)c * hw, hw, mean);
        double biased = sq / n;
        rstd = (float)(1.0 / Math.Sqrt(biased + Eps));
        double unbiased = n > 1 ? sq / (n - 1) : biased;
        runningMean[c] = (float)((1 - Momentum) * runningMean[c] + Momentum * (sum / n));
        runningVar[c] = (float)((1 - Momentum) * runningVar[c] + Momentum * unbiased);
    }

    private struct ForwardBody : IParallelBody
    {
        public float* X, Y, Gamma, Beta, Mean, Rstd, RunMean, RunVar;
        public int Batch, C, HW;
        public bool Training;

        public void Run(int c)
        {
            long stride = (long)C * HW;
            Statistics(X, Batch, C, HW, c, Training, RunMean, RunVar, out float mean, out float rstd);
            Mean[c] = mean;
            Rstd[c] = rstd;
            float scale = Gamma[c] * rstd, shift = Beta[c] - mean * scale;
            for (int b = 0; b < Batch; b++)
            {
                float* p = X + b * stride + (long)c * HW;
                float* q = Y + b * stride + (long)c * HW;
                for (int i = 0; i < HW; i++) q[i] = p[i] * scale + shift;
            }
        }
    }

    private struct BackwardBody : IParallelBody
    {
        public float* X, GY, GX, Gamma, GGamma, GBeta, Mean, Rstd;
        public int Batch, C, HW;
        public bool Training;

        public void Run(int c)
        {
            long stride = (long)C * HW;
            float mean = Mean[c], rstd = Rstd[c];
            double sumGy = 0, sumGyXhat = 0;
            for (int b = 0; b < Batch; b++)
            {
                float* x = X + b * stride + (long)c * HW;
                float* g = GY + b * stride + (long)c * HW;
                for (int i = 0; i < HW; i++)
                {
                    sumGy += g[i];
                    sumGyXhat += g[i] * ((x[i] - mean) * rstd);
                }
            }
            GGamma[c] += (float)sumGyXhat;
            GBeta[c] += (float)sumGy;
            float gamma = Gamma[c];
            long n = (long)Batch * HW;
            float k = gamma * rstd;
            float meanGy = (float)(sumGy / n), meanGyXhat = (float)(sumGyXhat / n);
            for (int b = 0; b < Batch; b++)
            {
                float* x = X + b * stride + (long)c * HW;
                float* g = GY + b * stride + (long)c * HW;
                float* o = GX + b * stride + (long)c * HW;
                if (Training)
                    for (int i = 0; i < HW; i++) o[i] = k * (g[i] - meanGy - (x[i] - mean) * rstd * meanGyXhat);
                else
                    for (int i = 0; i < HW; i++) o[i] = k * g[i];
            }
        }
    }
}
