using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Diffusion;

/// <summary>
/// Song et al.'s DDIM: a subsequence of n timesteps, deterministic at eta = 0. For a step from t to
/// its successor s (s = -1 after the last, alpha_bar[-1] = 1):
/// x0_hat = (x_t - sqrt(1 - alpha_bar[t]) eps_hat) / sqrt(alpha_bar[t]),
/// sigma = eta sqrt((1 - alpha_bar[s]) / (1 - alpha_bar[t]) (1 - alpha_bar[t] / alpha_bar[s])),
/// x_s = sqrt(alpha_bar[s]) x0_hat + sqrt(1 - alpha_bar[s] - sigma^2) eps_hat + sigma z.
/// </summary>
public sealed class DdimSampler : ISampler
{
    /// <summary>The name that selects this sampler on the command line and in <see cref="Samplers.Create"/>.</summary>
    public const string SamplerName = "ddim";

    private int[] _timesteps = [], _planned = [];

    /// <summary>A DDIM sampler; call <see cref="SetTimesteps"/> before stepping.</summary>
    public DdimSampler(NoiseSchedule schedule, double eta = 0.0)
    {
        // eta above 1 makes sigma^2 exceed 1 - alpha_bar[s] near t = T - 1, so the eps_hat weight
        // would be the square root of a negative number.
        if (!(eta >= 0 && eta <= 1))
            throw new ArgumentOutOfRangeException(nameof(eta), $"DDIM's eta must be between 0 and 1 (got {eta}): 0 is deterministic, 1 is as noisy as DDPM's posterior.");
        Schedule = schedule;
        Eta = eta;
    }

    /// <summary>A DDIM sampler over <paramref name="steps"/> timesteps (1 to T), ready to step.</summary>
    public DdimSampler(NoiseSchedule schedule, int steps, double eta = 0.0) : this(schedule, eta) => SetTimesteps(steps);

    /// <summary>Always <see cref="SamplerName"/>, "ddim".</summary>
    public string Name => SamplerName;
    /// <summary>The noise schedule the model was trained with; the step coefficients come from it.</summary>
    public NoiseSchedule Schedule { get; }
    /// <summary>The share of DDPM's posterior noise each step adds, 0 to 1: 0 is deterministic, 1 as noisy as DDPM.</summary>
    public double Eta { get; }
    /// <summary>The timesteps visited, from T - 1 down to 0 (see <see cref="LinspaceTimesteps"/>); empty until <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <summary>Chooses <see cref="LinspaceTimesteps"/>(T, <paramref name="steps"/>); throws <see cref="ArgumentOutOfRangeException"/> unless 1 &lt;= steps &lt;= T.</summary>
    public void SetTimesteps(int steps) => _timesteps = _planned = LinspaceTimesteps(Schedule.T, steps);

    /// <inheritdoc/>
    public void StartAt(int timestep) => _timesteps = Samplers.StartingAt(_planned, timestep, Schedule.T);

    /// <summary>
    /// linspace(T - 1, 0, n) truncated to integers (n = 50: 999, 978, ..., 0), computed exactly as
    /// (T - 1)(n - 1 - k) div (n - 1). Floating-point linspace is not used because where the exact
    /// value is an integer it can land just below it and truncate one lower (torch float64 does so
    /// for 82 of the n in 1..1000, numpy for 34 others, e.g. n = 100), so only the exact form is
    /// the same everywhere.
    /// </summary>
    public static int[] LinspaceTimesteps(int T, int steps)
    {
        if (steps < 1 || steps > T)
            throw new ArgumentOutOfRangeException(nameof(steps), $"DDIM's step count must be between 1 and {T} (got {steps}).");
        var result = new int[steps];
        if (steps == 1) { result[0] = T - 1; return result; }
        for (int k = 0; k < steps; k++)
            result[k] = (int)((long)(T - 1) * (steps - 1 - k) / (steps - 1));
        return result;
    }

    /// <summary>The step from t to s (s = -1: to x_0).</summary>
    public StepCoefficients Coefficients(int t, int s)
    {
        if ((uint)t >= (uint)Schedule.T) throw new ArgumentOutOfRangeException(nameof(t), t, $"timestep must be in 0..{Schedule.T - 1}.");
        if (s < -1 || s >= t) throw new ArgumentOutOfRangeException(nameof(s), s, $"successor of {t} must be in -1..{t - 1}.");
        double abT = Schedule.AlphaBar[t];
        double abS = Schedule.AlphaBarAt(s);
        double sigma = Eta * Math.Sqrt((1 - abS) / (1 - abT) * (1 - abT / abS));
        // Clamped at 0 only against rounding when sigma^2 = 1 - alpha_bar[s] (eta = 1, s = -1).
        double epsWeight = Math.Sqrt(Math.Max(0.0, 1 - abS - sigma * sigma));
        double x0Scale = Math.Sqrt(abS / abT);
        return new StepCoefficients(
            X: x0Scale,
            Eps: epsWeight - x0Scale * Math.Sqrt(1 - abT),
            Noise: sigma);
    }

    /// <inheritdoc/>
    /// <remarks>Draws noise only when <see cref="Eta"/> is above 0. Steps may be taken in any order.</remarks>
    public void Step(int index, ReadOnlySpan<float> xt, ReadOnlySpan<float> epsHat, Span<float> xNext, Rng rng)
    {
        if (_timesteps.Length == 0) throw new InvalidOperationException("call SetTimesteps before stepping a DDIM sampler.");
        if ((uint)index >= (uint)_timesteps.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"step index must be in 0..{_timesteps.Length - 1}.");
        int s = index + 1 < _timesteps.Length ? _timesteps[index + 1] : -1;
        Coefficients(_timesteps[index], s).Apply(xt, epsHat, xNext, rng);
    }
}
