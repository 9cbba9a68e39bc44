using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Training;

/// <summary>
/// One DDPM training step (SPEC section 3): draw t and eps per image, form x_t in closed form,
/// predict the target (eps, or the velocity v), take the mean squared error (optionally min-SNR
/// weighted per image), back-propagate and update. Buffers are reused from step to step.
/// </summary>
public sealed class NoiseObjective
{
    private readonly UNet _model;
    private readonly Adam _optimizer;
    private readonly NoiseSchedule _schedule;
    private readonly TimeConvention _time;
    private readonly PredictionTarget _prediction;
    private readonly double? _minSnrGamma;
    private readonly Activation _xt = new(), _eps = new(), _t = new(), _grad = new(), _velocity = new();
    private int[] _steps = [];
    private double[] _weights = [];

    /// <summary>A training step for <paramref name="model"/>, with buffers that grow to the largest batch and are then reused.</summary>
    /// <param name="model">The network trained; its store receives the gradients.</param>
    /// <param name="optimizer">Updates the model's parameters after every step; it must be over the model's store.</param>
    /// <param name="schedule">The forward process that t and x_t are drawn from.</param>
    /// <param name="time">What the network is fed for t: t / T (the default) or the raw t.</param>
    /// <param name="prediction">What the network learns to output: eps (the default) or v.</param>
    /// <param name="minSnrGamma">Weight each image by min-SNR-gamma with this gamma; null for the plain mean squared error.</param>
    public NoiseObjective(UNet model, Adam optimizer, NoiseSchedule schedule, TimeConvention time = TimeInput.Default,
        PredictionTarget prediction = Prediction.Default, double? minSnrGamma = null)
    {
        if (minSnrGamma is double g && !(g > 0 && double.IsFinite(g)))
            throw new ArgumentOutOfRangeException(nameof(minSnrGamma), g, "gamma must be positive.");
        _model = model;
        _optimizer = optimizer;
        _schedule = schedule;
        _time = time;
        _prediction = prediction;
        _minSnrGamma = minSnrGamma;
    }

    /// <summary>Trains on one batch; returns the loss before the update.</summary>
    public double Step(Tensor x0, Tensor context, Rng rng)
    {
        Draw(x0, rng);
        return StepPrepared(x0, context);
    }

    /// <summary>
    /// The same step with each image's t and the noise given instead of drawn, so that a test can
    /// run it on exactly the inputs a PyTorch reference step used.
    /// </summary>
    internal double Step(Tensor x0, Tensor context, ReadOnlySpan<int> steps, ReadOnlySpan<float> noise)
    {
        Size(x0);
        if (steps.Length != _steps.Length || noise.Length != x0.Length)
            throw new ArgumentException($"{steps.Length} timesteps and {noise.Length} noise values for a batch of {_steps.Length} images of {x0.Length} values.");
        steps.CopyTo(_steps);
        noise.CopyTo(_eps.Get(x0.Dim(0), x0.Dim(1), x0.Dim(2), x0.Dim(3)).Span);
        return StepPrepared(x0, context);
    }

    private double StepPrepared(Tensor x0, Tensor context)
    {
        var (xt, target, t) = Prepare(x0);
        var pred = _model.Forward(xt, t, context, training: true);
        var grad = _grad.Get(x0.Dim(0), x0.Dim(1), x0.Dim(2), x0.Dim(3));
        double loss = Loss(pred.Span, target.Span, grad.Span);
        _model.Store.ZeroGrads();
        _model.Backward(grad);
        _optimizer.Update();
        return loss;
    }

    /// <summary>The same loss without training (eval-mode statistics), for validation.</summary>
    public double Evaluate(Tensor x0, Tensor context, Rng rng)
    {
        Draw(x0, rng);
        var (xt, target, t) = Prepare(x0);
        var pred = _model.Forward(xt, t, context, training: false);
        return Loss(pred.Span, target.Span, default);
    }

    private double Loss(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, Span<float> grad) =>
        _minSnrGamma is null ? TensorOps.MseLoss(pred, target, grad) : LossWeights.WeightedMse(pred, target, _weights, grad);

    private void Size(Tensor x0)
    {
        int b = x0.Dim(0);
        if (_steps.Length != b)
        {
            _steps = new int[b];
            _weights = new double[b];
        }
    }

    /// <summary>Each image's t, then the noise, from <paramref name="rng"/>: the order a run's generator sequence depends on.</summary>
    private void Draw(Tensor x0, Rng rng)
    {
        Size(x0);
        for (int i = 0; i < _steps.Length; i++) _steps[i] = rng.NextInt(_schedule.T);
        rng.FillGaussian(_eps.Get(x0.Dim(0), x0.Dim(1), x0.Dim(2), x0.Dim(3)).Span);
    }

    /// <summary>x_t, the target and the time input from x0 and the drawn t and noise.</summary>
    private (Tensor Xt, Tensor Target, Tensor T) Prepare(Tensor x0)
    {
        int b = x0.Dim(0);
        var xt = _xt.Get(b, x0.Dim(1), x0.Dim(2), x0.Dim(3));
        var eps = _eps.Get(b, x0.Dim(1), x0.Dim(2), x0.Dim(3));
        var t = _t.Get(b, 1);
        _schedule.AddNoise(x0.Span, eps.Span, _steps, x0.Length / b, xt.Span);
        TimeInput.Fill(_steps, _schedule.T, _time, t.Span);
        if (_minSnrGamma is double gamma)
            for (int i = 0; i < b; i++) _weights[i] = LossWeights.MinSnr(_prediction, _schedule.AlphaBar[_steps[i]], gamma);
        if (_prediction == PredictionTarget.Noise) return (xt, eps, t);
        var v = _velocity.Get(b, x0.Dim(1), x0.Dim(2), x0.Dim(3));
        _schedule.Velocity(x0.Span, eps.Span, _steps, x0.Length / b, v.Span);
        return (xt, v, t);
    }
}
