using System.Collections.ObjectModel;

namespace SpriteDiffusion.Evaluation;

/// <summary>
/// The support estimate of Kynkäänniemi et al. (2019): the union of closed balls, one around each
/// sample, whose radius is the Euclidean distance from that sample to its k-th nearest other sample
/// of the same set. "Other" is by row, not by value: a duplicate row is a neighbour at distance 0,
/// so k or more copies of a row give it radius 0. A point is inside when its distance to some
/// sample is at most (&lt;=) that sample's radius, so a point exactly on a ball's surface counts.
/// The radii are computed once; <see cref="Contains"/> can then be asked about any number of sets.
/// </summary>
public sealed class FeatureManifold
{
    private readonly double[] _radii;
    private readonly int _blockRows;

    /// <summary>Builds the manifold of <paramref name="points"/> with radii from the <paramref name="k"/>-th nearest neighbour (3 in the paper).</summary>
    /// <exception cref="ArgumentException">The set is empty, holds a value that is not finite, or has no more than k rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1.</exception>
    public FeatureManifold(FeatureMatrix points, int k = ImprovedPrecisionRecall.DefaultK)
        : this(points, k, blockRows: 0, nameof(points))
    {
    }

    /// <summary>
    /// As the public constructor; <paramref name="blockRows"/> &gt; 0 overrides the rows per distance
    /// block (tests use it to cross block boundaries), and errors name <paramref name="paramName"/>,
    /// the caller's name for the set.
    /// </summary>
    internal FeatureManifold(FeatureMatrix points, int k, int blockRows, string paramName)
    {
        Validate(points, k, paramName);
        Points = points;
        K = k;
        _blockRows = blockRows > 0 ? blockRows : NeighbourSearch.DefaultBlockRows(points.Count);
        SquaredNorms = NeighbourSearch.SquaredNorms(points, paramName);
        var indices = new int[points.Count * k];
        var distances = new double[points.Count * k];
        NeighbourSearch.Nearest(points, SquaredNorms, points, SquaredNorms, k, excludeSelf: true, indices, distances, _blockRows);
        _radii = new double[points.Count];
        for (int i = 0; i < points.Count; i++)
            _radii[i] = distances[i * k + k - 1];
        Radii = new ReadOnlyCollection<double>(_radii);
    }

    /// <summary>The samples whose balls make up the manifold (held, not copied: changing their values afterwards leaves the radii stale).</summary>
    public FeatureMatrix Points { get; }

    /// <summary>Which nearest neighbour sets each radius.</summary>
    public int K { get; }

    /// <summary>Radius of each sample's ball, in row order: the distance to its k-th nearest other sample.</summary>
    public IReadOnlyList<double> Radii { get; }

    internal double[] SquaredNorms { get; }

    internal double[] RadiusArray => _radii;

    /// <summary>For each row of <paramref name="queries"/>: whether it lies in some sample's ball (distance &lt;= radius).</summary>
    /// <exception cref="ArgumentException">The queries are empty, have another dimension, or hold a value that is not finite.</exception>
    public bool[] Contains(FeatureMatrix queries)
    {
        ArgumentNullException.ThrowIfNull(queries);
        RequireComparable(queries, nameof(queries));
        var inside = new bool[queries.Count];
        var norms = NeighbourSearch.SquaredNorms(queries, nameof(queries));
        NeighbourSearch.Membership(queries, norms, aRadii: null, bInA: null, Points, SquaredNorms, _radii, inside, _blockRows);
        return inside;
    }

    /// <summary>The share of <paramref name="queries"/> inside the manifold, in [0, 1].</summary>
    /// <exception cref="ArgumentException">As for <see cref="Contains"/>.</exception>
    public double Coverage(FeatureMatrix queries) => ShareTrue(Contains(queries));

    internal static void Validate(FeatureMatrix points, int k, string paramName)
    {
        ArgumentNullException.ThrowIfNull(points, paramName);
        if (k < 1)
            throw new ArgumentOutOfRangeException(nameof(k), k, "k, the neighbour whose distance sets each radius, must be at least 1.");
        if (points.Count == 0)
            throw new ArgumentException("the set has no samples.", paramName);
        if (points.Count <= k)
            throw new ArgumentException($"a radius from the k = {k}-th nearest other sample needs at least {k + 1} samples; the set has {points.Count}.", paramName);
    }

    internal void RequireComparable(FeatureMatrix other, string paramName)
    {
        if (other.Count == 0)
            throw new ArgumentException("the set has no samples.", paramName);
        if (other.Dimension != Points.Dimension)
            throw new ArgumentException($"the samples have {other.Dimension} dimensions, the manifold's {Points.Dimension}.", paramName);
    }

    internal static double ShareTrue(bool[] flags)
    {
        int count = 0;
        foreach (bool f in flags)
            if (f) count++;
        return (double)count / flags.Length;
    }
}
