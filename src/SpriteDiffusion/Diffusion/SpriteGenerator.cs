using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Diffusion;

/// <summary>
/// Runs a sampler with a trained U-Net as its noise predictor: the glue between the model and
/// the samplers, which know nothing of each other.
/// </summary>
public sealed class SpriteGenerator
{
    private const int MaxForwardBatch = 128;
    private readonly UNet _model;
    private readonly TimeConvention _time;
    private Tensor? _x, _t, _c;

    public SpriteGenerator(UNet model, CheckpointInfo info)
    {
        _model = model;
        Info = info;
        Schedule = CreateSchedule(info);
        _time = TimeInput.Parse(info.TimeInput);
    }

    public CheckpointInfo Info { get; }
    public NoiseSchedule Schedule { get; }
    public int ImageLength => _model.Config.InChannels * _model.Config.Height * _model.Config.Height;

    /// <summary>
    /// The named sampler over this model's schedule; without a step count DDPM takes all T steps,
    /// DDIM <paramref name="defaultDdimSteps"/> (50 for sample grids, 100 for FID, as the seed) and
    /// DPM-Solver++ <see cref="DpmSolverSampler.DefaultSteps"/>.
    /// </summary>
    public ISampler CreateSampler(string method, int? steps, double eta, int defaultDdimSteps = 50) =>
        Samplers.Create(method, Schedule, steps ?? DefaultSteps(method, defaultDdimSteps), eta);

    private int DefaultSteps(string method, int defaultDdimSteps) => method.Trim().ToLowerInvariant() switch
    {
        DdimSampler.SamplerName => Math.Min(defaultDdimSteps, Schedule.T),
        DpmSolverSampler.SamplerName => Math.Min(DpmSolverSampler.DefaultSteps, Schedule.T),
        _ => Schedule.T,
    };

    public static NoiseSchedule CreateSchedule(CheckpointInfo info) =>
        info.Schedule == NoiseSchedule.LinearName
            ? NoiseSchedule.Linear(info.Timesteps, info.BetaStart, info.BetaEnd)
            : NoiseSchedule.Create(info.Schedule, info.Timesteps);

    /// <summary>
    /// Generates count sprites (count x C x H x W, about [-1, 1]). x_T comes from noise when given,
    /// else from rng, which then also drives the sampler's own noise.
    /// </summary>
    public float[] Generate(ISampler sampler, int count, Rng rng, ReadOnlySpan<float> noise = default,
        ReadOnlySpan<float> context = default, Action<int, int>? progress = null, StepObserver? onStep = null)
    {
        if (count < 1) throw new UserError($"the number of sprites must be at least 1 (got {count}).");
        int per = ImageLength, ncf = _model.Config.NCFeat;
        var x = new float[count * per];
        if (noise.IsEmpty) rng.FillGaussian(x);
        else
        {
            if (noise.Length != x.Length)
                throw new UserError($"the noise holds {noise.Length} values; {count} sprites of {_model.Config.InChannels}x{_model.Config.Height}x{_model.Config.Height} need {x.Length}.");
            noise.CopyTo(x);
        }
        var contexts = new float[count * ncf];
        if (!context.IsEmpty)
        {
            if (context.Length != contexts.Length) throw new ArgumentException("context must be count x n_cfeat", nameof(context));
            context.CopyTo(contexts);
        }
        Sampling.Run(sampler, (xt, t, eps) => Predict(xt, t, eps, contexts), x, rng, progress, onStep);
        return x;
    }

    private void Predict(ReadOnlySpan<float> xt, int step, Span<float> eps, float[] contexts)
    {
        int per = ImageLength, ncf = _model.Config.NCFeat, total = xt.Length / per, h = _model.Config.Height;
        float tValue = TimeInput.Value(step, Schedule.T, _time);
        for (int start = 0; start < total; start += MaxForwardBatch)
        {
            int b = Math.Min(MaxForwardBatch, total - start);
            if (_x is null || _x.Dim(0) != b)
            {
                _x = Tensor.Zeros(b, _model.Config.InChannels, h, h);
                _t = Tensor.Zeros(b, 1);
                _c = Tensor.Zeros(b, ncf);
            }
            xt.Slice(start * per, b * per).CopyTo(_x.Span);
            _t!.Span.Fill(tValue);
            contexts.AsSpan(start * ncf, b * ncf).CopyTo(_c!.Span);
            var y = _model.Forward(_x, _t, _c, training: false);
            y.Span.CopyTo(eps.Slice(start * per, b * per));
        }
    }
}
