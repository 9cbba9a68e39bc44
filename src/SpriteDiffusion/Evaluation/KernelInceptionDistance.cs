namespace SpriteDiffusion.Evaluation;

/// <summary>KID: the mean of the unbiased MMD^2 estimates over random subsets, and their standard deviation (divided by the number of subsets).</summary>
/// <param name="Mean">The mean MMD^2 estimate over the subsets.</param>
/// <param name="StandardDeviation">The estimates' standard deviation.</param>
/// <param name="Subsets">The number of subsets.</param>
/// <param name="SubsetSize">Images per set in each subset.</param>
public sealed record KidResult(double Mean, double StandardDeviation, int Subsets, int SubsetSize);

/// <summary>
/// The kernel distance of Bińkowski et al. (2018): the unbiased estimate of the squared maximum
/// mean discrepancy under the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, computed on
/// random subsets of both feature sets (sampled without replacement, independently per subset).
/// Unlike FID it is unbiased in the number of images, so small sets give comparable numbers.
/// </summary>
public static class KernelInceptionDistance
{
    /// <summary>Subsets KID averages over: torch-fidelity's default.</summary>
    public const int DefaultSubsets = 100;
    /// <summary>Images per set in each subset, torch-fidelity's default; smaller sets use all their images.</summary>
    public const int DefaultSubsetSize = 1000;

    // Above this many kernel entries (3 x 8 bytes each) the kernels are evaluated per subset instead of once.
    private const long MaxPrecomputedEntries = 40_000_000;

    /// <summary>
    /// KID over <paramref name="subsets"/> random subsets drawn with <paramref name="seed"/>, each of
    /// <paramref name="subsetSize"/> images of each set (fewer when a set is smaller). Throws
    /// <see cref="ArgumentException"/> when a set has fewer than 2 images or the dimensions differ.
    /// </summary>
    public static KidResult Compute(FeatureMatrix x, FeatureMatrix y, int subsets = DefaultSubsets, int subsetSize = DefaultSubsetSize, int seed = 0)
    {
        if (subsets < 1) throw new ArgumentOutOfRangeException(nameof(subsets), $"KID needs at least one subset (got {subsets}).");
        int size = Math.Min(subsetSize, Math.Min(x.Count, y.Count));
        if (size < 2) throw new ArgumentException($"KID needs at least 2 images in each set; got {x.Count} and {y.Count}.", nameof(x));
        var rng = new Random(seed);
        var indices = new List<(int[] X, int[] Y)>(subsets);
        for (int s = 0; s < subsets; s++)
            indices.Add((SampleWithoutReplacement(rng, x.Count, size), SampleWithoutReplacement(rng, y.Count, size)));
        return Compute(x, y, indices);
    }

    /// <summary>KID over the given subsets (each a list of row indices into x and into y).</summary>
    public static KidResult Compute(FeatureMatrix x, FeatureMatrix y, IReadOnlyList<(int[] X, int[] Y)> subsets)
    {
        CheckDimensions(x, y);
        if (subsets.Count == 0) throw new ArgumentException("no subsets", nameof(subsets));
        var estimates = new double[subsets.Count];
        long entries = (long)x.Count * x.Count + (long)y.Count * y.Count + (long)x.Count * y.Count;
        if (entries <= MaxPrecomputedEntries)
        {
            var kxx = Kernel(x, x, symmetric: true);
            var kyy = Kernel(y, y, symmetric: true);
            var kxy = Kernel(x, y, symmetric: false);
            for (int s = 0; s < subsets.Count; s++)
            {
                var (xi, yi) = subsets[s];
                estimates[s] = UnbiasedMmd2(kxx, x.Count, kyy, y.Count, kxy, xi, yi);
            }
        }
        else
        {
            for (int s = 0; s < subsets.Count; s++)
                estimates[s] = UnbiasedMmd2(Gather(x, subsets[s].X), Gather(y, subsets[s].Y));
        }
        double mean = estimates.Average();
        double variance = estimates.Sum(e => (e - mean) * (e - mean)) / estimates.Length;
        return new KidResult(mean, Math.Sqrt(variance), subsets.Count, subsets[0].X.Length);
    }

    /// <summary>The unbiased MMD^2 between all of x and all of y.</summary>
    public static double UnbiasedMmd2(FeatureMatrix x, FeatureMatrix y)
    {
        CheckDimensions(x, y);
        if (x.Count < 2 || y.Count < 2) throw new ArgumentException($"KID needs at least 2 images in each set; got {x.Count} and {y.Count}.", nameof(x));
        var kxx = Kernel(x, x, symmetric: true);
        var kyy = Kernel(y, y, symmetric: true);
        var kxy = Kernel(x, y, symmetric: false);
        return UnbiasedMmd2(kxx, x.Count, kyy, y.Count, kxy, Enumerable.Range(0, x.Count).ToArray(), Enumerable.Range(0, y.Count).ToArray());
    }

    private static double UnbiasedMmd2(double[] kxx, int nx, double[] kyy, int ny, double[] kxy, int[] xi, int[] yi)
    {
        int m = xi.Length, n = yi.Length;
        double sxx = 0, syy = 0, sxy = 0;
        for (int a = 0; a < m; a++)
        {
            int row = xi[a] * nx;
            for (int b = 0; b < m; b++)
                if (a != b) sxx += kxx[row + xi[b]];
        }
        for (int a = 0; a < n; a++)
        {
            int row = yi[a] * ny;
            for (int b = 0; b < n; b++)
                if (a != b) syy += kyy[row + yi[b]];
        }
        for (int a = 0; a < m; a++)
        {
            int row = xi[a] * ny;
            for (int b = 0; b < n; b++)
                sxy += kxy[row + yi[b]];
        }
        return sxx / ((double)m * (m - 1)) + syy / ((double)n * (n - 1)) - 2 * sxy / ((double)m * n);
    }

    /// <summary>k(a_i, b_j) for all pairs, row-major |a| x |b|.</summary>
    private static double[] Kernel(FeatureMatrix a, FeatureMatrix b, bool symmetric)
    {
        int m = a.Count, n = b.Count;
        var k = new double[(long)m * n];
        DenseProducts.MultiplyTransposed(a.Values, m, b.Values, n, a.Dimension, k, symmetric);
        double scale = 1.0 / a.Dimension;
        for (long i = 0; i < k.LongLength; i++)
        {
            double t = k[i] * scale + 1.0;
            k[i] = t * t * t;
        }
        return k;
    }

    private static FeatureMatrix Gather(FeatureMatrix source, int[] indices)
    {
        var values = new double[indices.Length * source.Dimension];
        for (int i = 0; i < indices.Length; i++)
            source.Row(indices[i]).CopyTo(values.AsSpan(i * source.Dimension));
        return new FeatureMatrix(values, indices.Length, source.Dimension);
    }

    private static int[] SampleWithoutReplacement(Random rng, int population, int count)
    {
        var pool = Enumerable.Range(0, population).ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = rng.Next(i, population);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..count];
    }

    private static void CheckDimensions(FeatureMatrix x, FeatureMatrix y)
    {
        if (x.Dimension != y.Dimension)
            throw new ArgumentException($"feature dimensions differ: {x.Dimension} and {y.Dimension}");
    }
}
