namespace SpriteDiffusion.Evaluation;

/// <summary>One query sample's nearest reference sample and the distance the near-copy rule compares it with.</summary>
/// <param name="Query">Row of the query sample.</param>
/// <param name="Reference">Row of its nearest reference sample (the lowest row among equally near ones).</param>
/// <param name="Nearest">Euclidean distance to that sample, d1.</param>
/// <param name="AtRank">Euclidean distance to the rank-th nearest reference sample (d50 by default).</param>
/// <param name="IsNearCopy">Whether Nearest &lt; AtRank / ratio.</param>
public readonly record struct NearestReference(int Query, int Reference, double Nearest, double AtRank, bool IsNearCopy);

/// <summary>How many query samples sit much closer to one reference sample than to the reference set around it.</summary>
/// <param name="Rate">NearCopyCount / QueryCount.</param>
/// <param name="NearCopyCount">Query samples with d1 &lt; d_rank / ratio.</param>
/// <param name="MeanNearest">Mean of d1 over all query samples, copies or not.</param>
/// <param name="MedianNearest">Median of d1 over all query samples (the mean of the middle two for an even count).</param>
/// <param name="Rank">Which neighbour's distance d1 is compared with.</param>
/// <param name="Ratio">How many times closer than that neighbour the nearest must be.</param>
/// <param name="QueryCount">Number of query samples.</param>
/// <param name="ReferenceCount">Number of reference samples.</param>
public sealed record NearCopyReport(double Rate, int NearCopyCount, double MeanNearest, double MedianNearest, int Rank, double Ratio, int QueryCount, int ReferenceCount);

/// <summary>The summary of a near-copy search and the nearest pair behind every query sample, in query order.</summary>
/// <param name="Report">Rate and distance statistics, small enough for an evaluation report.</param>
/// <param name="Samples">One entry per query sample, Samples[i].Query == i.</param>
public sealed record NearCopyResult(NearCopyReport Report, IReadOnlyList<NearestReference> Samples)
{
    /// <summary>The <paramref name="count"/> query samples nearest to a reference sample (fewer if there are fewer), nearest first, ties by query row: the pairs worth looking at side by side.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public IReadOnlyList<NearestReference> Closest(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Samples.OrderBy(s => s.Nearest).ThenBy(s => s.Query).Take(count).ToArray();
    }
}

/// <summary>
/// Memorisation check: for each query sample, the distance d1 to its nearest reference sample and
/// d_rank to its rank-th nearest; the sample is a near-copy when d1 &lt; d_rank / ratio (strictly, so
/// d1 exactly d_rank / ratio is not one, nor is anything whose rank-th neighbour is at distance 0).
/// Comparing with the sample's own neighbourhood rather than a fixed threshold keeps the rule
/// meaningful in any space and at any density. Nothing is excluded: a query row equal to a
/// reference row is its nearest neighbour at distance 0, so passing one set as both arguments
/// flags every row whose rank-th neighbour is not also at 0.
/// </summary>
/// <remarks>
/// The data set holds many near-identical variants of a sprite (skin tones), so part of any rate
/// is the data rather than the model. Run the same rule for generated vs training and for held-out
/// vs training samples, in the same space with the same parameters: the second rate is the
/// baseline the first should be read against.
/// </remarks>
public static class NearCopies
{
    /// <summary>By default d1 is compared with the distance to the 50th nearest reference sample.</summary>
    public const int DefaultRank = 50;

    /// <summary>By default a near-copy is more than 3 times closer to its nearest reference sample than to the 50th.</summary>
    public const double DefaultRatio = 3.0;

    /// <summary>Nearest reference samples of every query sample and the near-copy rate, in the space the rows are given in (pixels or features).</summary>
    /// <exception cref="ArgumentException">A set is empty or holds a value that is not finite, the dimensions differ, or the reference set has fewer than <paramref name="rank"/> rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> is below 2 or <paramref name="ratio"/> is not a finite number above 1.</exception>
    public static NearCopyResult Find(FeatureMatrix query, FeatureMatrix reference, int rank = DefaultRank, double ratio = DefaultRatio) =>
        Find(query, reference, rank, ratio, blockRows: 0);

    internal static NearCopyResult Find(FeatureMatrix query, FeatureMatrix reference, int rank, double ratio, int blockRows)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(reference);
        // d1 <= d_rank always, so below 2 nothing could ever be flagged, and at a ratio of 1 or less everything would be.
        if (rank < 2)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, "the neighbour d1 is compared with must be the 2nd or further.");
        if (!(ratio > 1.0) || !double.IsFinite(ratio))
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "the ratio must be a finite number above 1.");
        if (query.Count == 0)
            throw new ArgumentException("the query set has no samples.", nameof(query));
        if (reference.Count == 0)
            throw new ArgumentException("the reference set has no samples.", nameof(reference));
        if (query.Dimension != reference.Dimension)
            throw new ArgumentException($"the query samples have {query.Dimension} dimensions, the reference samples {reference.Dimension}.", nameof(query));
        if (reference.Count < rank)
            throw new ArgumentException($"comparing with the {rank}-th nearest reference sample needs at least {rank} reference samples; there are {reference.Count}.", nameof(reference));

        var queryNorms = NeighbourSearch.SquaredNorms(query, nameof(query));
        var referenceNorms = NeighbourSearch.SquaredNorms(reference, nameof(reference));
        var indices = new int[query.Count * rank];
        var distances = new double[query.Count * rank];
        NeighbourSearch.Nearest(query, queryNorms, reference, referenceNorms, rank, excludeSelf: false, indices, distances,
            blockRows > 0 ? blockRows : NeighbourSearch.DefaultBlockRows(reference.Count));

        var samples = new NearestReference[query.Count];
        var nearest = new double[query.Count];
        int copies = 0;
        double sum = 0;
        for (int q = 0; q < query.Count; q++)
        {
            double d1 = distances[q * rank], dRank = distances[q * rank + rank - 1];
            bool copy = d1 < dRank / ratio;
            if (copy) copies++;
            sum += d1;
            nearest[q] = d1;
            samples[q] = new NearestReference(q, indices[q * rank], d1, dRank, copy);
        }
        Array.Sort(nearest);
        int mid = query.Count / 2;
        double median = query.Count % 2 == 1 ? nearest[mid] : (nearest[mid - 1] + nearest[mid]) / 2;
        var report = new NearCopyReport((double)copies / query.Count, copies, sum / query.Count, median, rank, ratio, query.Count, reference.Count);
        return new NearCopyResult(report, samples);
    }
}
