using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Diffusion;

/// <summary>
/// A reverse-process sampler in the style of diffusers' schedulers: it knows the noise schedule and
/// nothing of the model, which only ever appears as the predicted noise handed to <see cref="Step"/>.
/// </summary>
public interface ISampler
{
    /// <summary>"ddpm", "ddim" or "dpm++2m".</summary>
    string Name { get; }

    /// <summary>The noise schedule the steps' coefficients come from; it must be the one the model was trained with.</summary>
    NoiseSchedule Schedule { get; }

    /// <summary>The timesteps visited, in order, as set by <see cref="SetTimesteps"/>.</summary>
    IReadOnlyList<int> Timesteps { get; }

    /// <summary>Chooses how many steps a run takes; throws <see cref="ArgumentOutOfRangeException"/> for a count the sampler cannot do.</summary>
    void SetTimesteps(int steps);

    /// <summary>
    /// Starts the run at <paramref name="timestep"/> (0 to T - 1) instead of T - 1, for sampling that
    /// begins from a partly noised image (img2img): the timesteps become <paramref name="timestep"/>
    /// followed by those of the sequence <see cref="SetTimesteps"/> chose that lie below it. T - 1
    /// restores that sequence unchanged.
    /// </summary>
    void StartAt(int timestep);

    /// <summary>
    /// One step from x at Timesteps[index] to the next x (x_0 after the last), given the model's
    /// predicted noise for the whole batch. Noise is drawn from <paramref name="rng"/> only when the
    /// step is stochastic. <paramref name="xNext"/> may be <paramref name="xt"/> itself. A sampler that
    /// remembers earlier steps (DPM-Solver++) takes a run's steps in order, index 0 starting a new run;
    /// every sampler may repeat the step just taken (RePaint's resampling goes back and steps again).
    /// </summary>
    void Step(int index, ReadOnlySpan<float> xt, ReadOnlySpan<float> epsHat, Span<float> xNext, Rng rng);
}
