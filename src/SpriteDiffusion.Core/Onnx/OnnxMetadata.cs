using SpriteDiffusion.Diffusion;

namespace SpriteDiffusion.Onnx;

/// <summary>
/// What an exported network cannot say by itself but a sampling loop around it needs: the noise
/// schedule, how the timestep is fed to the time input, and what the context vector means. Written
/// into the ONNX file's metadata_props under the keys of <see cref="OnnxMetadataKeys"/>. Plain
/// values, so that any caller can fill it (the application copies it from a checkpoint).
/// </summary>
public sealed record OnnxMetadata
{
    /// <summary>The noise schedule's name, one of <see cref="NoiseSchedule.Names"/>.</summary>
    public string Schedule { get; init; } = NoiseSchedule.LinearName;

    /// <summary>The number of diffusion timesteps T.</summary>
    public int Timesteps { get; init; } = NoiseSchedule.DefaultTimesteps;

    /// <summary>The first beta of a linear schedule (unused by the cosine schedule).</summary>
    public double BetaStart { get; init; } = NoiseSchedule.DefaultBetaStart;

    /// <summary>The last beta of a linear schedule (unused by the cosine schedule).</summary>
    public double BetaEnd { get; init; } = NoiseSchedule.DefaultBetaEnd;

    /// <summary>
    /// How the integer timestep t becomes the network's time input: <see cref="TimeInput.NormalizedName"/>
    /// (t / T) or <see cref="TimeInput.RawName"/> (t as a float). It belongs to the trained weights.
    /// </summary>
    public string TimeInput { get; init; } = Diffusion.TimeInput.NormalizedName;

    /// <summary>
    /// What the output holds: <see cref="Diffusion.Prediction.NoiseName"/> (the noise eps) or
    /// <see cref="Diffusion.Prediction.VelocityName"/> (the velocity v, from which eps = sqrt(alpha_bar) v
    /// + sqrt(1 - alpha_bar) x_t). It belongs to the trained weights.
    /// </summary>
    public string Prediction { get; init; } = Diffusion.Prediction.NoiseName;

    /// <summary>The class of each position of a one-hot context vector; empty when the classes have no names.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Trained with one-hot class contexts, so a class can be asked for (all zeros asks for none).</summary>
    public bool Conditional { get; init; }

    /// <summary>Which weights were exported: "ema" (the moving average) or "raw"; null when not known.</summary>
    public string? Weights { get; init; }

    /// <summary>Anything else worth carrying along (the source checkpoint, its epoch); stored under "extra." keys.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    /// <summary>The schedule these values describe, built as sampling builds it.</summary>
    public NoiseSchedule CreateSchedule() => Schedule == NoiseSchedule.LinearName
        ? NoiseSchedule.Linear(Timesteps, BetaStart, BetaEnd)
        : NoiseSchedule.Create(Schedule, Timesteps);
}

/// <summary>The metadata_props keys of an exported model.</summary>
public static class OnnxMetadataKeys
{
    /// <summary>Always <see cref="OnnxMetadataKeys.FormatValue"/>: tells a reader which keys to expect.</summary>
    public const string Format = "format";
    /// <summary>The value of <see cref="Format"/>.</summary>
    public const string FormatValue = "spritediffusion-unet";
    /// <summary>Image channels C of the inputs x and output eps.</summary>
    public const string InChannels = "in_channels";
    /// <summary>The U-Net's base width n_feat.</summary>
    public const string NFeat = "n_feat";
    /// <summary>The length of the context vector, n_cfeat.</summary>
    public const string NCFeat = "n_cfeat";
    /// <summary>Image height (and width) H.</summary>
    public const string Height = "height";
    /// <summary>"zeros", or "circular" for a model whose convolutions wrap around (trained or sampled as seamless tiles); the graph already pads that way.</summary>
    public const string Padding = "padding";
    /// <summary>The noise schedule's name ("linear" or "cosine").</summary>
    public const string Schedule = "schedule";
    /// <summary>T, the number of diffusion timesteps.</summary>
    public const string Timesteps = "timesteps";
    /// <summary>A linear schedule's first beta.</summary>
    public const string BetaStart = "beta_start";
    /// <summary>A linear schedule's last beta.</summary>
    public const string BetaEnd = "beta_end";
    /// <summary>
    /// The schedule's cumulative products alpha_bar[0..T-1] as a JSON list, so that a sampling
    /// loop needs no implementation of the schedule.
    /// </summary>
    public const string AlphasCumprod = "alphas_cumprod";
    /// <summary>"t/T" or "raw": what to feed the time input for timestep t.</summary>
    public const string TimeInput = "time_input";
    /// <summary>"eps" or "v": what the output holds (a v model's output is the velocity, not the noise).</summary>
    public const string Prediction = "prediction";
    /// <summary>The class names as a JSON list, in context-vector order.</summary>
    public const string ClassNames = "class_names";
    /// <summary>"true" when the model was trained with class contexts.</summary>
    public const string Conditional = "conditional";
    /// <summary>"ema" or "raw": which of a checkpoint's weights the file holds.</summary>
    public const string Weights = "weights";
    /// <summary>The prefix of the caller's extra entries.</summary>
    public const string ExtraPrefix = "extra.";
}
