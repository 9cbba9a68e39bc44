namespace SpriteDiffusion.Evaluation;

/// <summary>
/// Precision and recall of a generated set against a real one (Kynkäänniemi et al. 2019), both in [0, 1].
/// </summary>
/// <param name="Precision">Share of generated samples inside the real manifold: how many samples look real.</param>
/// <param name="Recall">Share of real samples inside the generated manifold: how much of the real variety is produced.</param>
/// <param name="K">The nearest neighbour whose distance set each ball's radius.</param>
/// <param name="RealCount">Number of real samples.</param>
/// <param name="GeneratedCount">Number of generated samples.</param>
public sealed record PrecisionRecall(double Precision, double Recall, int K, int RealCount, int GeneratedCount);

/// <summary>
/// The improved precision and recall of Kynkäänniemi et al. (2019, "Improved Precision and Recall
/// Metric for Assessing Generative Models"), in whatever feature space the rows are given in:
/// precision = |{g : g in M(real)}| / |generated|, recall = |{r : r in M(generated)}| / |real|,
/// where M(S) is the <see cref="FeatureManifold"/> of S (closed balls with k-th-neighbour radii, self
/// excluded). FID folds fidelity and variety into one number; these two keep them apart, so a model
/// that draws a few sprites perfectly (high precision, low recall) and one that covers everything
/// loosely (the reverse) no longer look alike.
/// </summary>
public static class ImprovedPrecisionRecall
{
    /// <summary>The paper's k: each radius is the distance to the 3rd nearest other sample.</summary>
    public const int DefaultK = 3;

    /// <summary>Precision and recall of <paramref name="generated"/> against <paramref name="real"/> with radii from the k-th nearest neighbour.</summary>
    /// <exception cref="ArgumentException">A set is empty, has no more than k rows, holds a value that is not finite, or the dimensions differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1.</exception>
    public static PrecisionRecall Compute(FeatureMatrix real, FeatureMatrix generated, int k = DefaultK) =>
        Compute(real, generated, k, blockRows: 0);

    /// <summary>
    /// Precision and recall from two manifolds built beforehand, so that one real manifold serves
    /// many generated sets (each checkpoint of a run, say) without recomputing its radii.
    /// </summary>
    /// <exception cref="ArgumentException">The manifolds use different k or have different dimensions.</exception>
    public static PrecisionRecall Compute(FeatureManifold real, FeatureManifold generated)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(generated);
        if (real.K != generated.K)
            throw new ArgumentException($"both manifolds must use the same k; the real one uses {real.K}, the generated one {generated.K}.", nameof(generated));
        real.RequireComparable(generated.Points, nameof(generated));
        return Compute(real, generated, NeighbourSearch.DefaultBlockRows(real.Points.Count));
    }

    internal static PrecisionRecall Compute(FeatureMatrix real, FeatureMatrix generated, int k, int blockRows)
    {
        // Both sets are checked before either manifold is built, so no mistake costs a distance pass.
        FeatureManifold.Validate(real, k, nameof(real));
        FeatureManifold.Validate(generated, k, nameof(generated));
        if (real.Dimension != generated.Dimension)
            throw new ArgumentException($"the generated samples have {generated.Dimension} dimensions, the real ones {real.Dimension}.", nameof(generated));
        var realManifold = new FeatureManifold(real, k, blockRows, nameof(real));
        var generatedManifold = new FeatureManifold(generated, k, blockRows, nameof(generated));
        return Compute(realManifold, generatedManifold, blockRows > 0 ? blockRows : NeighbourSearch.DefaultBlockRows(real.Count));
    }

    private static PrecisionRecall Compute(FeatureManifold real, FeatureManifold generated, int blockRows)
    {
        // One pass over the generated x real distances answers both questions: row i of the
        // block against the real radii (precision), column j against the generated radii (recall).
        var generatedInReal = new bool[generated.Points.Count];
        var realInGenerated = new bool[real.Points.Count];
        NeighbourSearch.Membership(generated.Points, generated.SquaredNorms, generated.RadiusArray, realInGenerated,
            real.Points, real.SquaredNorms, real.RadiusArray, generatedInReal, blockRows);
        return new PrecisionRecall(FeatureManifold.ShareTrue(generatedInReal), FeatureManifold.ShareTrue(realInGenerated),
            real.K, real.Points.Count, generated.Points.Count);
    }
}
