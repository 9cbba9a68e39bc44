namespace SpriteDiffusion.Diffusion;

/// <summary>
/// What a sampling run keeps of existing images: SDEdit's start (Meng et al. 2022: noise the images
/// to the level <see cref="Strength"/> names with the closed-form forward process, then denoise
/// from there) and RePaint's known region (Lugmayr et al. 2022: after every step, the pixels the
/// mask keeps are replaced by the images noised to that step's level, so the result holds them
/// exactly; each step may be taken again after noising its result back, so the generated part
/// settles around what was kept). <see cref="Sampling.Run"/> carries it out with any sampler.
/// </summary>
public sealed class SamplingEdit
{
    /// <summary>The most times a step may be taken; RePaint's paper used 10 and gains little after.</summary>
    public const int MaxResample = 20;

    /// <param name="images">The starting images, one per sprite drawn, C x H x W each in about [-1, 1], in the sampled batch's order.</param>
    /// <param name="strength">How far to noise them, in (0, 1]: the run starts at t = round(strength (T - 1)); 1 starts from pure noise.</param>
    /// <param name="mask">
    /// Null for no known region; else one value per value of <paramref name="images"/>: 1 where the
    /// sampler draws, 0 where the image is kept. Values between blend the two.
    /// </param>
    /// <param name="resample">How many times each step is taken (1: once, no going back); needs a mask above 1.</param>
    public SamplingEdit(float[] images, double strength = 1.0, float[]? mask = null, int resample = 1)
    {
        ArgumentNullException.ThrowIfNull(images);
        CheckStrength(strength);
        if (images.Length == 0) throw new ArgumentException("an edit needs at least one starting image.", nameof(images));
        if (mask is not null)
        {
            if (mask.Length != images.Length)
                throw new ArgumentException($"the mask holds {mask.Length} values but the images hold {images.Length}; give one mask value per image value.", nameof(mask));
            foreach (float m in mask)
                if (!(m >= 0 && m <= 1)) throw new ArgumentException($"mask values must be between 0 (keep) and 1 (draw); found {m}.", nameof(mask));
        }
        if (resample is < 1 or > MaxResample)
            throw new ArgumentOutOfRangeException(nameof(resample), $"the number of times each step is taken must be between 1 and {MaxResample} (got {resample}).");
        if (resample > 1 && mask is null)
            throw new ArgumentException("resampling harmonises a drawn region with a kept one, so it needs a mask; without one, leave it at 1.", nameof(resample));
        Images = images;
        Strength = strength;
        Mask = mask;
        Resample = resample;
    }

    /// <summary>The starting images, in the batch's order.</summary>
    public float[] Images { get; }
    /// <summary>How far the images are noised before denoising, in (0, 1].</summary>
    public double Strength { get; }
    /// <summary>1 where the sampler draws, 0 where the images are kept; null keeps nothing.</summary>
    public float[]? Mask { get; }
    /// <summary>How many times each step is taken (RePaint's r, with jumps of one step).</summary>
    public int Resample { get; }

    /// <summary>
    /// Starts <paramref name="sampler"/> (its timesteps set) at this edit's timestep, so that its
    /// <see cref="ISampler.Timesteps"/> show the steps the run will take; <see cref="Sampling.Run"/> does this itself.
    /// </summary>
    public void StartSampler(ISampler sampler) => sampler.StartAt(StartTimestep(Strength, sampler.Schedule.T));

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 0 &lt; strength &lt;= 1.</summary>
    public static void CheckStrength(double strength)
    {
        if (!(strength > 0 && strength <= 1))
            throw new ArgumentOutOfRangeException(nameof(Strength), $"the strength must be above 0 and at most 1 (got {strength}): near 0 keeps the image, 1 starts from pure noise.");
    }

    /// <summary>
    /// The timestep the run starts from: round(strength (T - 1)), halves rounded up; T - 1 at
    /// strength 1, where the start is the noise itself (the image's trace there, sqrt(alpha_bar[T - 1])
    /// of it, is dropped, so that strength 1 is plain sampling).
    /// </summary>
    public static int StartTimestep(double strength, int T)
    {
        CheckStrength(strength);
        return (int)Math.Floor(strength * (T - 1) + 0.5);
    }
}
