using SpriteDiffusion.Engine;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

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
    /// per step with the whole batch (<see cref="SamplingEdit.Resample"/> times with an edit).
    /// <paramref name="x"/> holds x_T on entry (the caller draws it, so the caller owns its seed) and
    /// x_0 on return. <paramref name="progress"/> gets (steps done, total).
    /// </summary>
    /// <param name="sampler">The sampler, with its timesteps set.</param>
    /// <param name="predictNoise">The model's eps_hat for the whole batch.</param>
    /// <param name="x">x_T on entry, x_0 on return.</param>
    /// <param name="rng">The source of every noise the run draws.</param>
    /// <param name="progress">Told (steps done, total) after each step.</param>
    /// <param name="onStep">Sees x after each step.</param>
    /// <param name="edit">
    /// Images to start from or keep part of (null: plain sampling). The sampler is started at the
    /// edit's timestep (<see cref="ISampler.StartAt"/>) and x_T is used as the forward process's noise;
    /// the noise of the known region and of resampling is drawn from <paramref name="rng"/>.
    /// </param>
    public static void Run(ISampler sampler, NoisePredictor predictNoise, Span<float> x, Rng rng,
        Action<int, int>? progress = null, StepObserver? onStep = null, SamplingEdit? edit = null)
    {
        if (edit is not null) Start(sampler, x, edit);
        var timesteps = sampler.Timesteps;
        if (timesteps.Count == 0) throw new InvalidOperationException($"{sampler.Name} sampler has no timesteps: call SetTimesteps first.");
        var epsHat = new float[x.Length];
        float[]? noise = edit?.Mask is null ? null : new float[x.Length];
        int takes = edit?.Resample ?? 1;
        for (int i = 0; i < timesteps.Count; i++)
        {
            int t = timesteps[i], s = i + 1 < timesteps.Count ? timesteps[i + 1] : -1;
            for (int take = 1; ; take++)
            {
                predictNoise(x, t, epsHat);
                sampler.Step(i, x, epsHat, x, rng);
                if (noise is not null) KeepKnown(sampler.Schedule, edit!, s, x, noise, rng);
                // The last step lands on x_0, where the kept pixels are exact and there is nothing to go back over.
                if (take >= takes || s < 0) break;
                Renoise(sampler.Schedule, s, t, x, noise!, rng);
            }
            onStep?.Invoke(i, x);
            progress?.Invoke(i + 1, timesteps.Count);
        }
    }

    /// <summary>x_t from the edit's images and the noise in x, with the sampler started at t.</summary>
    private static void Start(ISampler sampler, Span<float> x, SamplingEdit edit)
    {
        if (edit.Images.Length != x.Length)
            throw new ArgumentException($"the edit's images hold {edit.Images.Length} values but the batch holds {x.Length}; give one starting image per sprite.", nameof(edit));
        var schedule = sampler.Schedule;
        edit.StartSampler(sampler);
        int t = sampler.Timesteps[0];
        if (t == schedule.T - 1) return;
        schedule.AddNoise(edit.Images, x, [t], x.Length, x);
    }

    /// <summary>Where the mask keeps the image: the image noised to level s (s = -1: the image itself, exactly).</summary>
    private static void KeepKnown(NoiseSchedule schedule, SamplingEdit edit, int s, Span<float> x, float[] noise, Rng rng)
    {
        var images = edit.Images;
        var mask = edit.Mask!;
        if (s < 0)
        {
            for (int i = 0; i < x.Length; i++)
                x[i] = mask[i] == 0 ? images[i] : mask[i] == 1 ? x[i] : images[i] + mask[i] * (x[i] - images[i]);
            return;
        }
        rng.FillGaussian(noise);
        schedule.AddNoise(images, noise, [s], x.Length, noise);
        for (int i = 0; i < x.Length; i++)
            x[i] = mask[i] == 0 ? noise[i] : mask[i] == 1 ? x[i] : noise[i] + mask[i] * (x[i] - noise[i]);
    }

    /// <summary>One jump back: x_t drawn from q(x_t | x_s) = N(sqrt(alpha_bar[t] / alpha_bar[s]) x_s, (1 - alpha_bar[t] / alpha_bar[s]) I).</summary>
    private static void Renoise(NoiseSchedule schedule, int s, int t, Span<float> x, float[] noise, Rng rng)
    {
        double ratio = schedule.AlphaBar[t] / schedule.AlphaBar[s];
        rng.FillGaussian(noise);
        TensorPrimitives.Multiply(x, (float)Math.Sqrt(ratio), x);
        TensorPrimitives.MultiplyAdd(noise, (float)Math.Sqrt(1 - ratio), x, x);
    }
}
