namespace SpriteDiffusion.Diffusion;

/// <summary>What the network is trained to output for a noisy image x_t.</summary>
public enum PredictionTarget
{
    /// <summary>The noise eps that made x_t (Ho et al.): what the seed trains.</summary>
    Noise,

    /// <summary>
    /// The velocity v = sqrt(alpha_bar) eps - sqrt(1 - alpha_bar) x0 (Salimans and Ho 2022). Unlike
    /// eps, it stays informative where alpha_bar is near 0, where eps is almost x_t itself and the
    /// clean image implied by an eps prediction is that prediction's error divided by sqrt(alpha_bar).
    /// </summary>
    Velocity,
}

/// <summary>
/// The prediction target by name, and the conversions from a model's output to what the samplers
/// take. The samplers only ever see eps: a velocity model's output is turned into the eps it
/// implies, once per step, before a sampler uses it. With x_t = a x0 + s eps, a = sqrt(alpha_bar),
/// s = sqrt(1 - alpha_bar) and a^2 + s^2 = 1, the velocity v = a eps - s x0 gives
/// eps = a v + s x_t and x0 = a x_t - s v.
/// </summary>
public static class Prediction
{
    /// <summary>The default: the seed's eps prediction.</summary>
    public const PredictionTarget Default = PredictionTarget.Noise;
    /// <summary>The name of <see cref="PredictionTarget.Noise"/> in options and checkpoints.</summary>
    public const string NoiseName = "eps";
    /// <summary>The name of <see cref="PredictionTarget.Velocity"/> in options and checkpoints.</summary>
    public const string VelocityName = "v";

    /// <summary>Every target's name, for help text and validation.</summary>
    public static IReadOnlyList<string> Names { get; } = [NoiseName, VelocityName];

    /// <summary>The name a checkpoint records for <paramref name="target"/>.</summary>
    public static string Name(PredictionTarget target) => target switch
    {
        PredictionTarget.Noise => NoiseName,
        PredictionTarget.Velocity => VelocityName,
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, null),
    };

    /// <summary>The target a checkpoint names; <paramref name="source"/> is the file, for the message.</summary>
    public static PredictionTarget Parse(string name, string source = "the checkpoint") => name switch
    {
        NoiseName => PredictionTarget.Noise,
        VelocityName => PredictionTarget.Velocity,
        _ => throw new InvalidDataException($"{source}: unknown prediction target '{name}'; expected '{NoiseName}' or '{VelocityName}'. The file was written by a different program or version."),
    };

    /// <summary>
    /// Turns a model's <paramref name="output"/> for the batch <paramref name="xt"/> at one timestep
    /// (cumulative product <paramref name="alphaBar"/>) into eps, in place. With
    /// <paramref name="clipCleanImage"/>, wherever the implied clean image x0 leaves [-1, 1] it is
    /// clamped and eps becomes the noise consistent with the clamped x0 (diffusers' clip_sample).
    /// An eps model without clipping is left exactly as it is.
    /// </summary>
    public static void ToNoise(PredictionTarget target, ReadOnlySpan<float> xt, Span<float> output, double alphaBar, bool clipCleanImage)
    {
        CheckLengths(xt.Length, output.Length, alphaBar);
        double a = Math.Sqrt(alphaBar), s = Math.Sqrt(1 - alphaBar);
        if (target == PredictionTarget.Noise)
        {
            if (!clipCleanImage) return;
            for (int i = 0; i < output.Length; i++)
            {
                double x0 = (xt[i] - s * output[i]) / a;
                if (x0 is >= -1 and <= 1) continue;
                output[i] = (float)((xt[i] - a * Math.Clamp(x0, -1, 1)) / s);
            }
            return;
        }
        if (target != PredictionTarget.Velocity) throw new ArgumentOutOfRangeException(nameof(target), target, null);
        for (int i = 0; i < output.Length; i++)
        {
            // In float64: for a v model x0 = a x_t - s v is well conditioned, so clipping reads it
            // directly rather than through eps, which would divide eps's rounding by a.
            double v = output[i], x = xt[i];
            double x0 = a * x - s * v;
            output[i] = clipCleanImage && x0 is < -1 or > 1
                ? (float)((x - a * Math.Clamp(x0, -1, 1)) / s)
                : (float)(a * v + s * x);
        }
    }

    /// <summary>The clean image x0 that a model's <paramref name="output"/> for <paramref name="xt"/> implies.</summary>
    public static void ToCleanImage(PredictionTarget target, ReadOnlySpan<float> xt, ReadOnlySpan<float> output, double alphaBar, Span<float> x0)
    {
        CheckLengths(xt.Length, output.Length, alphaBar);
        if (x0.Length != xt.Length) throw new ArgumentException($"x0 holds {x0.Length} values for {xt.Length}.", nameof(x0));
        double a = Math.Sqrt(alphaBar), s = Math.Sqrt(1 - alphaBar);
        for (int i = 0; i < x0.Length; i++)
            x0[i] = target switch
            {
                PredictionTarget.Noise => (float)((xt[i] - s * output[i]) / a),
                PredictionTarget.Velocity => (float)(a * xt[i] - s * output[i]),
                _ => throw new ArgumentOutOfRangeException(nameof(target), target, null),
            };
    }

    private static void CheckLengths(int xt, int output, double alphaBar)
    {
        if (xt != output) throw new ArgumentException($"x_t ({xt}) and the model's output ({output}) must have the same length.");
        // Both ends would divide by zero: alpha_bar = 1 has no noise to predict, 0 no image.
        if (!(alphaBar > 0 && alphaBar < 1)) throw new ArgumentOutOfRangeException(nameof(alphaBar), alphaBar, "alpha_bar must be between 0 and 1, exclusive.");
    }
}
