using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace SpriteDiffusion.Diffusion;

/// <summary>
/// The variance schedule of the forward process and its closed form. Computed in float64 so that
/// alpha_bar near t = T - 1 (about 4e-5 for the linear schedule) keeps its digits; the float32
/// tensors only ever see the per-step coefficients.
/// </summary>
public sealed class NoiseSchedule
{
    /// <summary>T for the seed and for Ho et al.: 1000 timesteps.</summary>
    public const int DefaultTimesteps = 1000;
    /// <summary>The seed's linear schedule runs from this beta ...</summary>
    public const double DefaultBetaStart = 1e-4;
    /// <summary>... to this one (SPEC section 3).</summary>
    public const double DefaultBetaEnd = 0.02;
    /// <summary>The name of Ho et al.'s linear schedule (<see cref="Linear"/>), as checkpoints record it.</summary>
    public const string LinearName = "linear";
    /// <summary>The name of Nichol and Dhariwal's cosine schedule (<see cref="Cosine"/>), as checkpoints record it.</summary>
    public const string CosineName = "cosine";

    /// <summary>The names accepted by <see cref="Create"/>, for help text and checkpoints.</summary>
    public static IReadOnlyList<string> Names { get; } = [LinearName, CosineName];

    private NoiseSchedule(string name, double[] beta)
    {
        Name = name;
        T = beta.Length;
        Beta = beta;
        Alpha = new double[T];
        AlphaBar = new double[T];
        double product = 1.0;
        for (int t = 0; t < T; t++)
        {
            Alpha[t] = 1.0 - beta[t];
            product *= Alpha[t];
            AlphaBar[t] = product;
        }
    }

    /// <summary>"linear" or "cosine": what a checkpoint records so sampling uses the training schedule.</summary>
    public string Name { get; }

    /// <summary>The number of timesteps; they are indexed 0..T-1.</summary>
    public int T { get; }

    /// <summary>beta[t], the variance of the noise step t adds, for t in 0..T-1. Shared: do not change it.</summary>
    public double[] Beta { get; }
    /// <summary>alpha[t] = 1 - beta[t], the share of the variance step t keeps.</summary>
    public double[] Alpha { get; }
    /// <summary>
    /// alpha_bar[t] = alpha[0] ... alpha[t], the share of the clean image left at t:
    /// x_t = sqrt(alpha_bar[t]) x_0 + sqrt(1 - alpha_bar[t]) eps.
    /// </summary>
    public double[] AlphaBar { get; }

    /// <summary>alpha_bar[t], with alpha_bar[-1] = 1 (the clean image), which DDIM's last step needs.</summary>
    public double AlphaBarAt(int t)
    {
        if (t < -1 || t >= T) throw new ArgumentOutOfRangeException(nameof(t), t, $"timestep must be in -1..{T - 1}.");
        return t < 0 ? 1.0 : AlphaBar[t];
    }

    /// <summary>The schedule called <paramref name="name"/> ("linear" or "cosine", case-insensitive).</summary>
    public static NoiseSchedule Create(string name, int timesteps = DefaultTimesteps) =>
        name.Trim().ToLowerInvariant() switch
        {
            LinearName => Linear(timesteps),
            CosineName => Cosine(timesteps),
            _ => throw new ArgumentException($"unknown noise schedule '{name}': use one of {string.Join(", ", Names)}.", nameof(name)),
        };

    /// <summary>Ho et al.'s schedule: beta = linspace(betaStart, betaEnd, T).</summary>
    public static NoiseSchedule Linear(int timesteps = DefaultTimesteps, double betaStart = DefaultBetaStart, double betaEnd = DefaultBetaEnd)
    {
        CheckTimesteps(timesteps);
        if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd))
            throw new ArgumentOutOfRangeException(nameof(betaStart), $"a linear noise schedule needs 0 < beta start <= beta end < 1 (got {betaStart} and {betaEnd}).");
        var beta = new double[timesteps];
        beta[0] = betaStart;
        if (timesteps > 1)
        {
            double step = (betaEnd - betaStart) / (timesteps - 1);
            // Filled from both ends, as torch.linspace does, so that both endpoints come out exact.
            for (int i = 0; i < timesteps; i++)
                beta[i] = i < timesteps / 2 ? betaStart + i * step : betaEnd - (timesteps - 1 - i) * step;
        }
        return new NoiseSchedule(LinearName, beta);
    }

    /// <summary>
    /// Nichol and Dhariwal's schedule, alpha_bar(u) = f(u) / f(0) with f(u) = cos^2((u / T + s) / (1 + s) * pi / 2).
    /// Index t is the paper's step t + 1, so beta[t] = 1 - f(t + 1) / f(t); betas are clipped at
    /// <paramref name="maxBeta"/> because the last one is 1 (f(T) = 0), which would make alpha_bar vanish
    /// and the last DDIM step divide by zero. alpha_bar is the product of the clipped alphas.
    /// </summary>
    public static NoiseSchedule Cosine(int timesteps = DefaultTimesteps, double s = 0.008, double maxBeta = 0.999)
    {
        CheckTimesteps(timesteps);
        double F(int u)
        {
            double c = Math.Cos(((double)u / timesteps + s) / (1 + s) * Math.PI / 2);
            return c * c;
        }
        var beta = new double[timesteps];
        for (int t = 0; t < timesteps; t++)
            beta[t] = Math.Min(1.0 - F(t + 1) / F(t), maxBeta);
        return new NoiseSchedule(CosineName, beta);
    }

    private static void CheckTimesteps(int timesteps)
    {
        if (timesteps < 1)
            throw new ArgumentOutOfRangeException(nameof(timesteps), $"the number of diffusion timesteps T must be at least 1 (got {timesteps}).");
    }

    /// <summary>
    /// The closed-form forward process x_t = sqrt(alpha_bar[t]) x0 + sqrt(1 - alpha_bar[t]) eps, with
    /// each image's own t. The spans hold t.Length images of <paramref name="perImage"/> values each;
    /// <paramref name="xt"/> may be exactly <paramref name="x0"/> or <paramref name="eps"/> (no partial overlap).
    /// </summary>
    public void AddNoise(ReadOnlySpan<float> x0, ReadOnlySpan<float> eps, ReadOnlySpan<int> t, int perImage, Span<float> xt)
    {
        if (perImage < 1) throw new ArgumentOutOfRangeException(nameof(perImage), perImage, "must be positive.");
        long total = (long)t.Length * perImage;
        if (x0.Length != total || eps.Length != total || xt.Length != total)
            throw new ArgumentException($"{t.Length} images of {perImage} values need {total} values; got x0 {x0.Length}, eps {eps.Length}, xt {xt.Length}.");
        for (int i = 0; i < t.Length; i++)
        {
            int ti = t[i];
            if ((uint)ti >= (uint)T) throw new ArgumentOutOfRangeException(nameof(t), ti, $"timestep of image {i} must be in 0..{T - 1}.");
            double alphaBar = AlphaBar[ti];
            var signal = (float)Math.Sqrt(alphaBar);
            var noise = (float)Math.Sqrt(1.0 - alphaBar);
            var range = new Range(i * perImage, (i + 1) * perImage);
            var dest = xt[range];
            var x0i = x0[range];
            var epsi = eps[range];
            // When xt is eps, scaling eps first would overwrite it before x0 is added: order by alias.
            if (dest.Overlaps(epsi))
            {
                TensorPrimitives.Multiply(epsi, noise, dest);
                TensorPrimitives.MultiplyAdd(x0i, signal, dest, dest);
            }
            else
            {
                TensorPrimitives.Multiply(x0i, signal, dest);
                TensorPrimitives.MultiplyAdd(epsi, noise, dest, dest);
            }
        }
    }

    /// <summary>
    /// The velocity v = sqrt(alpha_bar[t]) eps - sqrt(1 - alpha_bar[t]) x0 of each image (Salimans and
    /// Ho 2022), what a v-prediction model is trained to output for the x_t that
    /// <see cref="AddNoise"/> makes of the same x0 and eps. <paramref name="v"/> must not overlap the inputs.
    /// </summary>
    public void Velocity(ReadOnlySpan<float> x0, ReadOnlySpan<float> eps, ReadOnlySpan<int> t, int perImage, Span<float> v)
    {
        if (perImage < 1) throw new ArgumentOutOfRangeException(nameof(perImage), perImage, "must be positive.");
        long total = (long)t.Length * perImage;
        if (x0.Length != total || eps.Length != total || v.Length != total)
            throw new ArgumentException($"{t.Length} images of {perImage} values need {total} values; got x0 {x0.Length}, eps {eps.Length}, v {v.Length}.");
        if (v.Overlaps(x0) || v.Overlaps(eps)) throw new ArgumentException("v must not overlap x0 or eps.", nameof(v));
        for (int i = 0; i < t.Length; i++)
        {
            int ti = t[i];
            if ((uint)ti >= (uint)T) throw new ArgumentOutOfRangeException(nameof(t), ti, $"timestep of image {i} must be in 0..{T - 1}.");
            var range = new Range(i * perImage, (i + 1) * perImage);
            TensorPrimitives.Multiply(eps[range], (float)Math.Sqrt(AlphaBar[ti]), v[range]);
            TensorPrimitives.MultiplyAdd(x0[range], (float)-Math.Sqrt(1.0 - AlphaBar[ti]), v[range], v[range]);
        }
    }
}
