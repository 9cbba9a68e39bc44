using SpriteDiffusion.Engine;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SpriteDiffusion.Diffusion;

/// <summary>
/// Lu et al.'s DPM-Solver++(2M) (2022): the multistep second-order solver of the probability-flow
/// ODE in its data-prediction form, deterministic, over DDIM's timesteps. With alpha_t =
/// sqrt(alpha_bar[t]), sigma_t = sqrt(1 - alpha_bar[t]) and lambda_t = log(alpha_t / sigma_t), a
/// step from t to its successor s takes x0_hat = (x_t - sigma_t eps_hat) / alpha_t, h = lambda_s - lambda_t
/// and x_s = (sigma_s / sigma_t) x_t - alpha_s (exp(-h) - 1) D, where D = (1 + 1/(2r)) x0_hat - 1/(2r) x0_prev
/// with r = h_prev / h (second order), or D = x0_hat (first order).
/// <para>
/// Three steps are first order. The first, which has no x0_prev. The last, to s = -1 (alpha = 1,
/// sigma = 0, lambda = infinity), which returns x0_hat: its h is infinite, so r = 0 and the
/// second-order D has no finite value, and x0_hat is the first-order formula's limit (DDIM's last
/// step too); it costs little because sigma at t = 0 is about 0.01. And the step into t = 0: DDIM's
/// timesteps are even in t, so that step spans a lambda interval several times the one before it
/// (20 steps: 52 to 0 is h = 2.9 after h = 0.68, r = 0.23), and extrapolating x0_hat's trend
/// 1/(2r) = 2.1 times over it overshoots where x0_hat levels off near the clean image. Measured on
/// the earlier bundled model (RGB, eps, n_feat 32) against a 1000-step solution (tools/reference/DIFFUSION.md), taking that step
/// at first order halves the error at 10, 20, 40 and 100 steps.
/// </para>
/// </summary>
public sealed class DpmSolverSampler : ISampler
{
    /// <summary>The name that selects this sampler on the command line and in <see cref="Samplers.Create"/>.</summary>
    public const string SamplerName = "dpm++2m";

    /// <summary>Steps when none are given: on the bundled model 20 land closer to the ODE's solution than DDIM's 50 (tools/reference/DIFFUSION.md).</summary>
    public const int DefaultSteps = 20;

    private int[] _timesteps = [], _planned = [];
    private float[] _x0 = [];
    private float[] _previousX0 = [];
    private int _nextIndex;

    /// <summary>A DPM-Solver++(2M) sampler; call <see cref="SetTimesteps"/> before stepping.</summary>
    public DpmSolverSampler(NoiseSchedule schedule) => Schedule = schedule;

    /// <summary>A DPM-Solver++(2M) sampler over <paramref name="steps"/> of DDIM's timesteps (1 to T), ready to step.</summary>
    public DpmSolverSampler(NoiseSchedule schedule, int steps) : this(schedule) => SetTimesteps(steps);

    /// <summary>Always <see cref="SamplerName"/>, "dpm++2m".</summary>
    public string Name => SamplerName;
    /// <summary>The noise schedule the model was trained with; the step coefficients come from it.</summary>
    public NoiseSchedule Schedule { get; }
    /// <summary>The timesteps visited, DDIM's from T - 1 down to 0; empty until <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <summary>DDIM's timesteps; forgets any run in progress.</summary>
    public void SetTimesteps(int steps)
    {
        if (steps < 1 || steps > Schedule.T)
            throw new ArgumentOutOfRangeException(nameof(steps), $"DPM-Solver++'s step count must be between 1 and {Schedule.T} (got {steps}).");
        _timesteps = _planned = DdimSampler.LinspaceTimesteps(Schedule.T, steps);
        _nextIndex = 0;
    }

    /// <inheritdoc/>
    /// <remarks>Forgets any run in progress; the first step from <paramref name="timestep"/> is first order.</remarks>
    public void StartAt(int timestep)
    {
        _timesteps = Samplers.StartingAt(_planned, timestep, Schedule.T);
        _nextIndex = 0;
    }

    /// <summary>The coefficients of step <paramref name="index"/> of the current timesteps.</summary>
    public MultistepCoefficients Coefficients(int index)
    {
        if ((uint)index >= (uint)_timesteps.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"step index must be in 0..{_timesteps.Length - 1}.");
        int t = _timesteps[index];
        double alphaT = Math.Sqrt(Schedule.AlphaBar[t]);
        double sigmaT = Math.Sqrt(1 - Schedule.AlphaBar[t]);
        double toX0 = 1 / alphaT, epsToX0 = -sigmaT / alphaT;
        if (index + 1 == _timesteps.Length)
            return new MultistepCoefficients(toX0, epsToX0, X: 0, X0: 1, PreviousX0: 0);

        int s = _timesteps[index + 1];
        double alphaS = Math.Sqrt(Schedule.AlphaBar[s]);
        double sigmaS = Math.Sqrt(1 - Schedule.AlphaBar[s]);
        double h = Lambda(s) - Lambda(t);
        double dWeight = alphaS * (1 - Math.Exp(-h));
        if (index == 0 || index + 2 == _timesteps.Length)
            return new MultistepCoefficients(toX0, epsToX0, X: sigmaS / sigmaT, X0: dWeight, PreviousX0: 0);
        double r = (Lambda(t) - Lambda(_timesteps[index - 1])) / h;
        double k = 1 / (2 * r);
        return new MultistepCoefficients(toX0, epsToX0, X: sigmaS / sigmaT, X0: dWeight * (1 + k), PreviousX0: -dWeight * k);
    }

    private double Lambda(int t) => 0.5 * Math.Log(Schedule.AlphaBar[t] / (1 - Schedule.AlphaBar[t]));

    /// <inheritdoc/>
    /// <remarks>
    /// Deterministic: <paramref name="rng"/> is never drawn from. Keeps the step's x0_hat for the next
    /// step, so a run's steps go in order from 0 (<see cref="InvalidOperationException"/> otherwise), one
    /// batch at a time per sampler; the step just taken may be taken again (RePaint's resampling), which
    /// still extrapolates from the step before it.
    /// </remarks>
    public void Step(int index, ReadOnlySpan<float> xt, ReadOnlySpan<float> epsHat, Span<float> xNext, Rng rng)
    {
        if (_timesteps.Length == 0) throw new InvalidOperationException("call SetTimesteps before stepping a DPM-Solver++ sampler.");
        if ((uint)index >= (uint)_timesteps.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"step index must be in 0..{_timesteps.Length - 1}.");
        // Each step but the first needs the previous step's x0_hat, so a run must go in order; step 0 starts a new one.
        bool repeat = index != 0 && index == _nextIndex - 1;
        if (index != 0 && index != _nextIndex && !repeat)
            throw new InvalidOperationException($"DPM-Solver++ steps must be taken in order: expected step {_nextIndex}, {_nextIndex - 1} again, or 0, got {index}.");
        if (xt.Length != xNext.Length || epsHat.Length != xNext.Length)
            throw new ArgumentException($"x_t ({xt.Length}), eps_hat ({epsHat.Length}) and x_next ({xNext.Length}) must have the same length.");
        if (index == 0 && _x0.Length != xt.Length)
        {
            _x0 = new float[xt.Length];
            _previousX0 = new float[xt.Length];
        }
        else if (_x0.Length != xt.Length)
            throw new InvalidOperationException($"the batch changed size within a run ({_x0.Length} values, then {xt.Length}).");

        // After a step _previousX0 holds its x0_hat and _x0 the one before, so a repeated step
        // rewrites its own x0_hat and extrapolates from the older one.
        var (x0, previous) = repeat ? (_previousX0, _x0) : (_x0, _previousX0);
        var c = Coefficients(index);
        TensorPrimitives.Multiply(xt, (float)c.XToX0, x0);
        TensorPrimitives.MultiplyAdd(epsHat, (float)c.EpsToX0, x0, x0);
        TensorPrimitives.Multiply(xt, (float)c.X, xNext);
        TensorPrimitives.MultiplyAdd(x0, (float)c.X0, xNext, xNext);
        if (c.PreviousX0 != 0) TensorPrimitives.MultiplyAdd(previous, (float)c.PreviousX0, xNext, xNext);
        if (!repeat) (_x0, _previousX0) = (_previousX0, _x0);
        _nextIndex = index + 1;
    }
}

/// <summary>
/// One DPM-Solver++ step as two affine maps: x0_hat = XToX0 x_t + EpsToX0 eps_hat, then
/// x_next = X x_t + X0 x0_hat + PreviousX0 x0_prev (x0_prev: the previous step's x0_hat).
/// </summary>
/// <param name="XToX0">The weight of x_t in x0_hat: 1 / alpha_t.</param>
/// <param name="EpsToX0">The weight of eps_hat in x0_hat: -sigma_t / alpha_t.</param>
/// <param name="X">The weight of x_t in x_next: sigma_s / sigma_t (0 on the last step).</param>
/// <param name="X0">The weight of this step's x0_hat in x_next.</param>
/// <param name="PreviousX0">The weight of the previous step's x0_hat; 0 on first-order steps.</param>
public readonly record struct MultistepCoefficients(double XToX0, double EpsToX0, double X, double X0, double PreviousX0);
