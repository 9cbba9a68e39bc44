using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Layers;

/// <summary>
/// BatchNorm2d's parameters and statistics with PyTorch's semantics: in training, normalise by the
/// batch's biased variance and move the running statistics (momentum 0.1) toward the mean and the
/// unbiased variance; in evaluation, normalise by the running statistics. In the seed U-Net every
/// BatchNorm is followed by GELU, so the passes over memory are <see cref="BatchNormGelu"/>'s.
/// </summary>
public sealed unsafe class BatchNorm2d
{
    /// <summary>Added to the variance under the square root: PyTorch's default, so that its weights normalise the same here.</summary>
    public const float Eps = 1e-5f;
    /// <summary>How far each training batch moves the running statistics: running = 0.9 running + 0.1 batch, PyTorch's default.</summary>
    public const float Momentum = 0.1f;
    private readonly Tensor _mean, _rstd;

    /// <summary>
    /// Registers the five state-dict entries under <paramref name="name"/> (weight, bias, running_mean,
    /// running_var, num_batches_tracked) with PyTorch's initial values: scale 1, shift 0, mean 0, variance 1.
    /// </summary>
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

    /// <summary>The number of channels normalised (dimension 1 of the input).</summary>
    public int Channels { get; }
    /// <summary>The per-channel scale gamma, initially 1.</summary>
    public StateEntry Weight { get; }
    /// <summary>The per-channel shift beta, initially 0.</summary>
    public StateEntry Bias { get; }
    /// <summary>The per-channel mean that evaluation normalises with; training batches move it by <see cref="Momentum"/>.</summary>
    public StateEntry RunningMean { get; }
    /// <summary>The per-channel unbiased variance that evaluation normalises with, initially 1.</summary>
    public StateEntry RunningVar { get; }
    /// <summary>
    /// How many training batches have moved the running statistics, in <see cref="StateEntry.Count"/>.
    /// Kept for PyTorch's state dict only: with a fixed momentum nothing here reads it.
    /// </summary>
    public StateEntry BatchesTracked { get; }
    /// <summary>The statistics the last forward pass normalised with (for backward).</summary>
    internal Tensor BatchMean => _mean;
    internal Tensor BatchRstd => _rstd;

    /// <summary>
    /// Sets the mean and 1/sqrt(var + eps) each channel is normalised with (BatchMean, BatchRstd).
    /// In training: the batch's, with the biased variance, moving the running statistics toward
    /// the mean and the unbiased variance and counting the batch. Otherwise: the running statistics.
    /// The batch's come from each (image, channel) plane's sum and squared deviation, taken in
    /// memory order on every thread (a channel's planes lie a whole image apart), then combined per
    /// channel in image order (Chan et al., in double), so they do not depend on the thread count.
    /// </summary>
    internal void SetStatistics(Tensor x, bool training)
    {
        float* mean = _mean.Data, rstd = _rstd.Data, runningMean = RunningMean.Value.Data, runningVar = RunningVar.Value.Data;
        if (!training)
        {
            for (int c = 0; c < Channels; c++)
            {
                mean[c] = runningMean[c];
                rstd[c] = (float)(1.0 / Math.Sqrt(runningVar[c] + (double)Eps));
            }
            return;
        }
        int batch = x.Dim(0), hw = x.Dim(2) * x.Dim(3);
        float* planes = Scratch.Get(ScratchSlot.PartialSums, 2L * batch * Channels); // owned by this (calling) thread
        var body = new PlaneStatistics { X = x.Data, Partial = planes, HW = hw, Runs = new PlaneRuns(batch * Channels, hw) };
        Workers.For(body.Runs.Count, ref body);
        long n = (long)batch * hw;
        for (int c = 0; c < Channels; c++)
        {
            double sum = 0;
            for (int b = 0; b < batch; b++) sum += planes[2 * ((long)b * Channels + c)];
            double m = sum / n, sq = 0;
            for (int b = 0; b < batch; b++)
            {
                float* p = planes + 2 * ((long)b * Channels + c);
                double d = (double)p[0] / hw - m;
                sq += p[1] + hw * d * d;
            }
            double biased = sq / n, unbiased = n > 1 ? sq / (n - 1) : biased;
            mean[c] = (float)m;
            rstd[c] = (float)(1.0 / Math.Sqrt(biased + Eps));
            runningMean[c] = (float)((1 - Momentum) * runningMean[c] + Momentum * m);
            runningVar[c] = (float)((1 - Momentum) * runningVar[c] + Momentum * unbiased);
        }
        BatchesTracked.Count++;
    }

    /// <summary>Each plane's sum and its squared deviation from its own mean.</summary>
    private struct PlaneStatistics : IParallelBody
    {
        public float* X, Partial;
        public int HW;
        public PlaneRuns Runs;

        public void Run(int run)
        {
            var (start, end) = Runs[run];
            for (int plane = start; plane < end; plane++)
            {
                float* x = X + (long)plane * HW;
                float sum = (float)Reductions.Sum(x, HW);
                Partial[2 * plane] = sum;
                Partial[2 * plane + 1] = (float)Reductions.SumSquaredDeviation(x, HW, sum / HW);
            }
        }
    }
}

/// <summary>
/// Planes [0, planes) of hw floats each (the (image, channel) maps of an NCHW tensor, in memory
/// order), cut into Count runs of whole planes: enough floats per run for the dispatch to vanish,
/// few enough to balance the two cores.
/// </summary>
internal readonly struct PlaneRuns
{
    private const int RunFloats = 8192;
    private readonly int _planes, _perRun;

    public PlaneRuns(int planes, int hw)
    {
        _planes = planes;
        _perRun = Math.Max(1, RunFloats / Math.Max(1, hw));
    }

    public int Count => (_planes + _perRun - 1) / _perRun;
    public (int Start, int End) this[int run] => (run * _perRun, Math.Min(_planes, (run + 1) * _perRun));
}
