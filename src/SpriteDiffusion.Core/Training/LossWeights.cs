using SpriteDiffusion.Diffusion;

namespace SpriteDiffusion.Training;

/// <summary>How each image's squared error counts towards the training loss.</summary>
public enum LossWeighting
{
    /// <summary>Every image alike: the plain mean squared error of SPEC section 3.</summary>
    Mse,

    /// <summary>
    /// Min-SNR-gamma (Hang et al., "Efficient Diffusion Training via Min-SNR Weighting Strategy",
    /// 2023): each timestep weighted so that, seen as a loss on the clean image, its weight is
    /// min(SNR(t), gamma). Low-noise timesteps, whose x0 loss weight SNR grows without bound, stop
    /// dominating the gradient, which the paper finds converges several times faster.
    /// </summary>
    MinSnr,
}

/// <summary>The loss weightings by name, their per-timestep weights and the weighted loss.</summary>
public static class LossWeights
{
    /// <summary>The name of <see cref="LossWeighting.Mse"/> in options and checkpoints.</summary>
    public const string MseName = "mse";
    /// <summary>The name of <see cref="LossWeighting.MinSnr"/> in options and checkpoints.</summary>
    public const string MinSnrName = "min-snr";
    /// <summary>The paper's default gamma.</summary>
    public const double DefaultGamma = 5.0;

    /// <summary>Every weighting's name, for help text and validation.</summary>
    public static IReadOnlyList<string> Names { get; } = [MseName, MinSnrName];

    /// <summary>The weighting called <paramref name="name"/>.</summary>
    public static LossWeighting Parse(string name) => name switch
    {
        MseName => LossWeighting.Mse,
        MinSnrName => LossWeighting.MinSnr,
        _ => throw new ArgumentException($"unknown loss weighting '{name}': use one of {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>
    /// The min-SNR-gamma weight of a timestep with cumulative product <paramref name="alphaBar"/>,
    /// SNR = alpha_bar / (1 - alpha_bar), for a model predicting <paramref name="target"/>. The loss
    /// on eps is SNR times the loss on x0, and the loss on v is SNR + 1 times it, so the weight
    /// min(SNR, gamma) on x0 becomes min(SNR, gamma) / SNR on eps and min(SNR, gamma) / (SNR + 1) on v.
    /// </summary>
    public static double MinSnr(PredictionTarget target, double alphaBar, double gamma)
    {
        if (!(alphaBar > 0 && alphaBar < 1)) throw new ArgumentOutOfRangeException(nameof(alphaBar), alphaBar, "alpha_bar must be between 0 and 1, exclusive.");
        if (!(gamma > 0 && double.IsFinite(gamma))) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be positive.");
        double snr = alphaBar / (1 - alphaBar);
        double clipped = Math.Min(snr, gamma);
        return target switch
        {
            PredictionTarget.Noise => clipped / snr,
            PredictionTarget.Velocity => clipped / (snr + 1),
            _ => throw new ArgumentOutOfRangeException(nameof(target), target, null),
        };
    }

    /// <summary>
    /// mean over images i of weights[i] times image i's mean squared error, which with all weights 1
    /// is the plain mean squared error; writes d loss / d pred into <paramref name="grad"/> when given.
    /// The spans hold weights.Length images of equal size.
    /// </summary>
    public static double WeightedMse(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, ReadOnlySpan<double> weights, Span<float> grad)
    {
        if (pred.Length != target.Length || (!grad.IsEmpty && grad.Length != pred.Length))
            throw new ArgumentException($"prediction ({pred.Length}), target ({target.Length}) and gradient ({grad.Length}) must have the same length.");
        if (weights.Length < 1 || pred.Length % weights.Length != 0)
            throw new ArgumentException($"{pred.Length} values do not make {weights.Length} images.", nameof(weights));
        int per = pred.Length / weights.Length;
        double total = 0;
        for (int image = 0; image < weights.Length; image++)
        {
            double sum = 0;
            float scale = (float)(2 * weights[image] / pred.Length);
            int start = image * per;
            for (int i = start; i < start + per; i++)
            {
                float d = pred[i] - target[i];
                sum += (double)d * d;
                if (!grad.IsEmpty) grad[i] = scale * d;
            }
            total += weights[image] * sum;
        }
        return total / pred.Length;
    }
}
