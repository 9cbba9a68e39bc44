using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Diffusion;

/// <summary>
/// Ho et al.'s ancestral sampler: every timestep from T-1 down to 0,
/// x_{t-1} = (x_t - beta[t] / sqrt(1 - alpha_bar[t]) eps_hat) / sqrt(alpha[t]) + sqrt(beta[t]) z,
/// with no noise at t = 0. The variance is beta[t], the paper's "large" choice; the posterior
/// variance beta_tilde[t] (what DDIM at eta = 1 gives) is the other choice the paper found equally good.
/// </summary>
public sealed class DdpmSampler : ISampler
{
    /// <summary>The name that selects this sampler on the command line and in <see cref="Samplers.Create"/>.</summary>
    public const string SamplerName = "ddpm";

    private int[] _timesteps;

    /// <summary>A DDPM sampler over the whole chain of <paramref name="schedule"/>, ready to step.</summary>
    public DdpmSampler(NoiseSchedule schedule)
    {
        Schedule = schedule;
        _timesteps = AllTimesteps(schedule.T);
    }

    /// <summary>Always <see cref="SamplerName"/>, "ddpm".</summary>
    public string Name => SamplerName;
    /// <summary>The noise schedule the model was trained with; the step coefficients come from it.</summary>
    public NoiseSchedule Schedule { get; }
    /// <summary>Every timestep, from T - 1 down to 0.</summary>
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <summary>DDPM's steps are the whole chain, so <paramref name="steps"/> must be T.</summary>
    public void SetTimesteps(int steps)
    {
        if (steps != Schedule.T)
            throw new ArgumentOutOfRangeException(nameof(steps), $"DDPM visits every timestep, so its step count is {Schedule.T} (got {steps}); DDIM samples in fewer steps.");
        _timesteps = AllTimesteps(Schedule.T);
    }

    /// <summary>Every timestep from <paramref name="timestep"/> down to 0.</summary>
    public void StartAt(int timestep) => _timesteps = Samplers.StartingAt(AllTimesteps(Schedule.T), timestep, Schedule.T);

    /// <summary>The step from t to t - 1.</summary>
    public StepCoefficients Coefficients(int t)
    {
        if ((uint)t >= (uint)Schedule.T) throw new ArgumentOutOfRangeException(nameof(t), t, $"timestep must be in 0..{Schedule.T - 1}.");
        double beta = Schedule.Beta[t];
        double invSqrtAlpha = 1.0 / Math.Sqrt(Schedule.Alpha[t]);
        return new StepCoefficients(
            X: invSqrtAlpha,
            Eps: -beta / Math.Sqrt(1.0 - Schedule.AlphaBar[t]) * invSqrtAlpha,
            Noise: t > 0 ? Math.Sqrt(beta) : 0.0);
    }

    /// <inheritdoc/>
    /// <remarks>Draws fresh noise at every step but the last (t = 0). Steps may be taken in any order.</remarks>
    public void Step(int index, ReadOnlySpan<float> xt, ReadOnlySpan<float> epsHat, Span<float> xNext, Rng rng)
    {
        if ((uint)index >= (uint)_timesteps.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"step index must be in 0..{_timesteps.Length - 1}.");
        Coefficients(_timesteps[index]).Apply(xt, epsHat, xNext, rng);
    }

    private static int[] AllTimesteps(int T)
    {
        var steps = new int[T];
        for (int i = 0; i < T; i++) steps[i] = T - 1 - i;
        return steps;
    }
}
