using SpriteDiffusion.Engine;

namespace SpriteDiffusion.Training;

/// <summary>
/// Classifier-free guidance's training half: some images learn with the null context (all zeros,
/// what the seed's model sees when no class is given) so one network predicts both ways.
/// </summary>
public static class ContextDropout
{
    /// <summary>
    /// Clears each row of <paramref name="contexts"/> (rows of <paramref name="width"/> values)
    /// with probability <paramref name="probability"/>. One draw per row, and none at all when the
    /// probability is 0, so a run's generator sequence depends only on its options.
    /// </summary>
    public static void Apply(Span<float> contexts, int width, double probability, Rng rng)
    {
        if (width < 1 || contexts.Length % width != 0)
            throw new ArgumentException($"{contexts.Length} context values do not make rows of {width}.", nameof(contexts));
        if (!(probability >= 0 && probability <= 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "must be in [0, 1].");
        if (probability == 0) return;
        for (int row = 0; row < contexts.Length / width; row++)
            if (rng.NextDouble() < probability) contexts.Slice(row * width, width).Clear();
    }
}
