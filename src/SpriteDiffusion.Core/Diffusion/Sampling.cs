using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Diffusion;

/// <summary>The model's noise prediction eps_hat for a whole batch x_t at timestep t.</summary>
public delegate void NoisePredictor(ReadOnlySpan<float> xt, int t, Span<float> epsHat);

/// <summary>Sees x after step <paramref name="index"/> (x_0 after the last), e.g. to record an animation frame.</summary>
public delegate void StepObserver(int index, ReadOnlySpan<float> x);

/// <summary>The reverse-process loop, independent of both the model and the sampler.</summary>
public static class Sampling
{
    /// <summary>
    /// Runs <paramref name="sampler"/> over its timesteps, calling <paramref name="predictNoise"/> once
    /// per step with the whole batch. <paramref name="x"/> holds x_T on entry (the caller draws it, so
    /// the caller owns its seed) and x_0 on return. <paramref name="progress"/> gets (steps done, total).
    /// </summary>
    public static void Run(ISampler sampler, NoisePredictor predictNoise, Span<float> x, Rng rng,
        Action<int, int>? progress = null, StepObserver? onStep = null)
    {
        var timesteps = sampler.Timesteps;
        if (timesteps.Count == 0) throw new InvalidOperationException($"{sampler.Name} sampler has no timesteps: call SetTimesteps first.");
        var epsHat = new float[x.Length];
        for (int i = 0; i < timesteps.Count; i++)
        {
            predictNoise(x, timesteps[i], epsHat);
            sampler.Step(i, x, epsHat, x, rng);
            onStep?.Invoke(i, x);
            progress?.Invoke(i + 1, timesteps.Count);
        }
    }
}
