using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Training;

/// <summary>
/// One DDPM training step (SPEC section 3): draw t and eps per image, form x_t in closed form,
/// predict eps, take the MSE, back-propagate and update. Buffers are reused from step to step.
/// </summary>
public sealed class NoiseObjective
{
    private readonly UNet _model;
    private readonly Adam _optimizer;
    private readonly NoiseSchedule _schedule;
    private readonly TimeConvention _time;
    private readonly Activation _xt = new(), _eps = new(), _t = new(), _grad = new();
    private int[] _steps = [];

    /// <summary>A training step for <paramref name="model"/>, with buffers that grow to the largest batch and are then reused.</summary>
    /// <param name="model">The network trained; its store receives the gradients.</param>
    /// <param name="optimizer">Updates the model's parameters after every step; it must be over the model's store.</param>
    /// <param name="schedule">The forward process that t and x_t are drawn from.</param>
    /// <param name="time">What the network is fed for t: t / T (the default) or the raw t.</param>
    public NoiseObjective(UNet model, Adam optimizer, NoiseSchedule schedule, TimeConvention time = TimeInput.Default)
    {
        _model = model;
        _optimizer = optimizer;
        _schedule = schedule;
        _time = time;
    }

    /// <summary>Trains on one batch; returns the loss before the update.</summary>
    public double Step(Tensor x0, Tensor context, Rng rng)
    {
        var (xt, eps, t) = Prepare(x0, rng);
        var pred = _model.Forward(xt, t, context, training: true);
        var grad = _grad.Get(x0.Dim(0), x0.Dim(1), x0.Dim(2), x0.Dim(3));
        double loss = TensorOps.MseLoss(pred.Span, eps.Span, grad.Span);
        _model.Store.ZeroGrads();
        _model.Backward(grad);
        _optimizer.Update();
        return loss;
    }

    /// <summary>The same loss without training (eval-mode statistics), for validation.</summary>
    public double Evaluate(Tensor x0, Tensor context, Rng rng)
    {
        var (xt, eps, t) = Prepare(x0, rng);
        var pred = _model.Forward(xt, t, context, training: false);
        return TensorOps.MseLoss(pred.Span, eps.Span, default);
    }

    private (Tensor Xt, Tensor Eps, Tensor T) Prepare(Tensor x0, Rng rng)
    {
        int b = x0.Dim(0);
        var xt = _xt.Get(b, x0.Dim(1), x0.Dim(2), x0.Dim(3));
        var eps = _eps.Get(b, x0.Dim(1), x0.Dim(2), x0.Dim(3));
        var t = _t.Get(b, 1);
        if (_steps.Length != b) _steps = new int[b];
        for (int i = 0; i < b; i++) _steps[i] = rng.NextInt(_schedule.T);
        rng.FillGaussian(eps.Span);
        _schedule.AddNoise(x0.Span, eps.Span, _steps, x0.Length / b, xt.Span);
        TimeInput.Fill(_steps, _schedule.T, _time, t.Span);
        return (xt, eps, t);
    }
}
