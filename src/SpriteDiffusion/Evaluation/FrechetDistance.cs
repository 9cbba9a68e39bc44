using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;

namespace SpriteDiffusion.Evaluation;

/// <summary>Mean and sample covariance (divided by n - 1, like numpy.cov) of a feature set.</summary>
/// <param name="Mean">The mean feature vector.</param>
/// <param name="Covariance">The d x d sample covariance.</param>
/// <param name="Count">The number of images fitted.</param>
public sealed record GaussianStatistics(Vector<double> Mean, Matrix<double> Covariance, int Count);

/// <summary>
/// The Fréchet distance between Gaussians fitted to two feature sets (FID when the features come
/// from a network): |m1 - m2|^2 + Tr(C1) + Tr(C2) - 2 Tr((C1 C2)^(1/2)), all in float64.
/// </summary>
public static class FrechetDistance
{
    // The rank tolerance numpy's matrix_rank uses: largest eigenvalue magnitude x size x this.
    private const double MachineEpsilon = 2.220446049250313e-16;

    /// <summary>
    /// The Fréchet distance between Gaussians fitted to two feature sets: FID for network features.
    /// When a set has fewer images than dimensions (a quick check at 2048-d Inception features) it
    /// is computed in image space instead, which is exact and needs no d x d decomposition.
    /// </summary>
    public static double Compute(FeatureMatrix a, FeatureMatrix b)
    {
        if (a.Dimension != b.Dimension)
            throw new ArgumentException($"feature dimensions differ: {a.Dimension} and {b.Dimension}");
        return Math.Min(a.Count, b.Count) < a.Dimension ? ComputeInImageSpace(a, b) : Compute(Statistics(a), Statistics(b));
    }

    /// <summary>
    /// With X and Y the centred features divided by sqrt(n - 1) (rows = images), C1 = X^T X and
    /// C2 = Y^T Y, so Tr(C1) is the sum of X's squares and the non-zero eigenvalues of C1 C2 are the
    /// squared singular values of X Y^T: Tr((C1 C2)^(1/2)) is the sum of the singular values of an
    /// n1 x n2 matrix. Rank-deficient covariances, which a d x d square root meets as rounding
    /// noise, cannot arise here.
    /// </summary>
    private static double ComputeInImageSpace(FeatureMatrix a, FeatureMatrix b)
    {
        var (x, meanX) = Scaled(a);
        var (y, meanY) = Scaled(b);
        double meanTerm = 0;
        for (int k = 0; k < meanX.Length; k++) meanTerm += (meanX[k] - meanY[k]) * (meanX[k] - meanY[k]);
        double traces = 0;
        foreach (double v in x) traces += v * v;
        foreach (double v in y) traces += v * v;
        // Taller than wide, for the decomposition: the singular values of M and M^T are the same.
        bool xSmaller = a.Count <= b.Count;
        int rows = xSmaller ? b.Count : a.Count, columns = xSmaller ? a.Count : b.Count;
        var product = new double[rows * columns];
        DenseProducts.MultiplyTransposed(xSmaller ? y : x, rows, xSmaller ? x : y, columns, a.Dimension, product);
        // Row-major rows x columns read column-major is its transpose, which has the same singular values.
        var singular = new DenseMatrix(columns, rows, product).Svd(computeVectors: false).S;
        return meanTerm + traces - 2 * singular.Sum();
    }

    /// <summary>The features' mean; throws <see cref="ArgumentException"/> for fewer than 2 images (no covariance).</summary>
    private static double[] Mean(FeatureMatrix features)
    {
        if (features.Count < 2)
            throw new ArgumentException($"a covariance needs at least 2 images; got {features.Count}.", nameof(features));
        int n = features.Count, d = features.Dimension;
        var mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            var row = features.Row(i);
            for (int k = 0; k < d; k++) mean[k] += row[k];
        }
        for (int k = 0; k < d; k++) mean[k] /= n;
        return mean;
    }

    /// <summary>The features minus their mean, divided by sqrt(n - 1), row by row; and the mean.</summary>
    private static (double[] Scaled, double[] Mean) Scaled(FeatureMatrix features)
    {
        var mean = Mean(features);
        int n = features.Count, d = features.Dimension;
        double scale = 1.0 / Math.Sqrt(n - 1);
        var scaled = new double[(long)n * d];
        for (int i = 0; i < n; i++)
        {
            var row = features.Row(i);
            for (int k = 0; k < d; k++) scaled[(long)i * d + k] = (row[k] - mean[k]) * scale;
        }
        return (scaled, mean);
    }

    /// <summary>The mean and sample covariance of the features; throws <see cref="ArgumentException"/> for fewer than 2 images.</summary>
    public static GaussianStatistics Statistics(FeatureMatrix features)
    {
        var mean = Mean(features);
        int n = features.Count, d = features.Dimension;
        // One row per feature, so that every covariance entry is a dot product of two rows.
        var centred = new double[(long)d * n];
        for (int i = 0; i < n; i++)
        {
            var row = features.Row(i);
            for (int k = 0; k < d; k++) centred[(long)k * n + i] = row[k] - mean[k];
        }
        var covariance = new double[d * d];
        DenseProducts.MultiplyTransposed(centred, d, centred, d, n, covariance, symmetric: true);
        double scale = 1.0 / (n - 1);
        for (int i = 0; i < covariance.Length; i++) covariance[i] *= scale;
        return new GaussianStatistics(Vector<double>.Build.DenseOfArray(mean), new DenseMatrix(d, d, covariance), n);
    }

    /// <summary>The Fréchet distance between two fitted Gaussians, e.g. statistics kept from an earlier run; throws <see cref="ArgumentException"/> when the dimensions differ.</summary>
    public static double Compute(GaussianStatistics a, GaussianStatistics b)
    {
        if (a.Mean.Count != b.Mean.Count)
            throw new ArgumentException($"feature dimensions differ: {a.Mean.Count} and {b.Mean.Count}");
        var difference = a.Mean - b.Mean;
        double meanTerm = difference.DotProduct(difference);
        double traceTerm = a.Covariance.Trace() + b.Covariance.Trace() - 2 * TraceOfSquareRootOfProduct(a.Covariance, b.Covariance);
        return meanTerm + traceTerm;
    }

    /// <summary>
    /// Tr((A B)^(1/2)) for symmetric positive semi-definite A and B. A B is not symmetric, but it
    /// is similar to A^(1/2) B A^(1/2), which is; so two symmetric eigen-decompositions give the
    /// answer with real arithmetic and no iterative matrix square root. Eigenvalues within rounding
    /// of zero count as zero: with fewer images than feature dimensions most of them are, and a
    /// square root would turn their rounding noise (~1e-16) into errors of ~1e-8 each.
    /// </summary>
    public static double TraceOfSquareRootOfProduct(Matrix<double> a, Matrix<double> b)
    {
        int d = a.RowCount;
        var rootA = SymmetricSquareRootArray(a);
        var bValues = Symmetrised(b).ToColumnMajorArray();
        var product = new double[d * d];
        var inner = new double[d * d];
        // With symmetric B and A^(1/2), X Y = X Y^T, so both products are row-by-row dot products.
        DenseProducts.MultiplyTransposed(rootA, d, bValues, d, d, product);
        DenseProducts.MultiplyTransposed(product, d, rootA, d, d, inner);
        double sum = 0;
        foreach (double value in EigenvaluesAboveNoise(Symmetrised(new DenseMatrix(d, d, inner))))
            sum += Math.Sqrt(value);
        return sum;
    }

    /// <summary>
    /// The symmetric square root of a symmetric positive semi-definite matrix, from its eigen-decomposition;
    /// eigenvalues within rounding of zero (negative ones included) count as zero.
    /// </summary>
    public static Matrix<double> SymmetricSquareRoot(Matrix<double> symmetric)
    {
        int d = symmetric.RowCount;
        return new DenseMatrix(d, d, SymmetricSquareRootArray(symmetric));
    }

    private static double[] SymmetricSquareRootArray(Matrix<double> symmetric)
    {
        int d = symmetric.RowCount;
        var evd = Symmetrised(symmetric).Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Map(c => c.Real);
        double cutoff = NoiseLevel(values, d);
        // Column-major storage of the eigenvector matrix V read row by row is V^T: row t is eigenvector t.
        var vectorsByRow = evd.EigenVectors.ToColumnMajorArray();
        var scaled = new double[d * d];
        var plain = new double[d * d];
        for (int t = 0; t < d; t++)
        {
            double root = values[t] > cutoff ? Math.Sqrt(values[t]) : 0.0;
            for (int i = 0; i < d; i++)
            {
                scaled[i * d + t] = vectorsByRow[t * d + i] * root;
                plain[i * d + t] = vectorsByRow[t * d + i];
            }
        }
        // (V diag(r)) V^T: entry (i, j) is the dot product of row i of V diag(r) and row j of V.
        var result = new double[d * d];
        DenseProducts.MultiplyTransposed(scaled, d, plain, d, d, result);
        return Symmetrised(new DenseMatrix(d, d, result)).ToColumnMajorArray();
    }

    private static List<double> EigenvaluesAboveNoise(Matrix<double> symmetric)
    {
        var values = symmetric.Evd(Symmetricity.Symmetric).EigenValues.Map(c => c.Real);
        double cutoff = NoiseLevel(values, symmetric.RowCount);
        var kept = new List<double>(values.Count);
        foreach (double v in values)
            if (v > cutoff) kept.Add(v);
        return kept;
    }

    private static double NoiseLevel(Vector<double> eigenvalues, int size) =>
        eigenvalues.AbsoluteMaximum() * size * MachineEpsilon;

    private static Matrix<double> Symmetrised(Matrix<double> m) => (m + m.Transpose()) * 0.5;
}
