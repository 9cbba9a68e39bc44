using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Training;

/// <summary>
/// One DDPM training step (SPEC section 3): draw t and eps per image, form x_t in closed form,
/// predict eps, take the MSE, back-propagate and update. Buffers are reused from step to step.
/// </summary>
public sealed unsafe class NoiseObjective
{
    private readonly UNet _model;
    private readonly Adam _optimizer;
    private readonly double[] _alphaBar;
    private readonly bool _normalizedTime;
    private readonly Activation _xt = new(), _eps = new(), _t = new(), _grad = new();
    private int[] _steps = [];

    /// <param name="alphaBar">The schedule's cumulative products, one per timestep (T = length).</param>
    /// <param name="normalizedTime">Feed t / T to the network (the default) rather than the raw t.</param>
    public NoiseObjective(UNet model, Adam optimizer, double[] alphaBar, bool normalizedTime = true)
    {
        _model = model;
        _optimizer = optimizer;
        _alphaBar = alphaBar;
        _normalizedTime = normalizedTime;
    }

    public int Timesteps => _alphaBar.Length;

    /// <summary>Trains on one batch; returns the loss before the update.</summary>
    public double Step(Tensor x0, Tensor context, Rng rng)
    {
        double loss = Prepare(x0, rng, out var xt, out var eps, out var t);
        var pred = _model.Forward(xt, t, context, training: true);
        var grad = _grad.Get(x0.Dim(0), x0.Dim(1), x0.Dim(2), x0.Dim(3));
        loss = TensorOps.MseLoss(pred.Span, eps.Span, grad.Span);
        _model.Store.ZeroGrads();
        _model.Backward(grad);
        _optimizer.Update();
        return loss;
    }

    /// <summary>The same loss without training (eval-mode statistics), for validation.</summary>
    public double Evaluate(Tensor x0, Tensor context, Rng rng)
    {
        Prepare(x0, rng, out var xt, out var eps, out var t);
        var pred = _model.Forward(xt, t, context, training: false);
        return TensorOps.MseLoss(pred.Span, eps.Span, default);
    }

    private double Prepare(Tensor x0, Rng rng, out Tensor xt, out Tensor eps, out Tensor t)
    {
        int b = x0.Dim(0), per = x0.Length / b;
        xt = _xt.Get(b, x0.Dim(1), x0.Dim(2), x0.Dim(3));
        eps = _eps.Get(b, x0.Dim(1), x0.Dim(2), x0.Dim(3));
        t = _t.Get(b, 1);
        if (_steps.Length < b) _steps = new int[b];
        for (int i = 0; i < b; i++) _steps[i] = rng.NextInt(Timesteps);
        rng.FillGaussian(eps.Span);
        for (int i = 0; i < b; i++)
        {
            int step = _steps[i];
            float a = (float)Math.Sqrt(_alphaBar[step]), s = (float)Math.Sqrt(1 - _alphaBar[step]);
            float* px = x0.Data + (long)i * per, pe = eps.Data + (long)i * per, po = xt.Data + (long)i * per;
            for (int j = 0; j < per; j++) po[j] = a * px[j] + s * pe[j];
            t.Data[i] = _normalizedTime ? (float)step / Timesteps : step;
        }
        return 0;
    }
}
