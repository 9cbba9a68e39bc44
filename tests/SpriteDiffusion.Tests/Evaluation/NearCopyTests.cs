using System.Numerics.Tensors;
using System.Text.Json;
using SpriteDiffusion.Evaluation;
using static SpriteDiffusion.Tests.Evaluation.PrecisionRecallTests;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Known answers, invariants and argument errors of <see cref="NearCopies"/>.</summary>
public class NearCopyTests
{
    [Fact]
    public void KnownAnswersOnALine()
    {
        // Reference 0, 1, ..., 59. From 0.25 the 50th nearest is 49 (48.75 away); from 100 it is 10 (90 away);
        // from 30.5 the nearest are 30 and 31 (0.5 each: the lower row wins) and the 50th is 55 or 6 (24.5).
        var reference = Column(Enumerable.Range(0, 60).Select(i => (double)i).ToArray());
        var query = Column(0.25, 100, 30.5, 59);
        var result = NearCopies.Find(query, reference);
        Assert.Equal(new NearestReference(0, 0, 0.25, 48.75, true), result.Samples[0]);
        Assert.Equal(new NearestReference(1, 59, 41, 90, false), result.Samples[1]);
        Assert.Equal(new NearestReference(2, 30, 0.5, 24.5, true), result.Samples[2]);
        Assert.Equal(new NearestReference(3, 59, 0, 49, true), result.Samples[3]);
        // d1 = 0.25, 41, 0.5, 0: mean 41.75 / 4, median (0.25 + 0.5) / 2.
        Assert.Equal(new NearCopyReport(0.75, 3, 41.75 / 4, 0.375, 50, 3.0, 4, 60), result.Report);
        Assert.Equal(new[] { 3, 0, 2 }, result.Closest(3).Select(s => s.Query));
        Assert.Equal(4, result.Closest(10).Count);
    }

    [Fact]
    public void MedianOfAnOddCountIsTheMiddleValue()
    {
        var reference = Column(Enumerable.Range(0, 10).Select(i => 10.0 * i).ToArray());
        var report = NearCopies.Find(Column(1, 12, 27), reference, rank: 2).Report;
        Assert.Equal(2.0, report.MedianNearest);
        Assert.Equal(2.0, report.MeanNearest);
    }

    [Fact]
    public void DistanceExactlyAtTheThresholdIsNotACopy()
    {
        // From 0: nearest 1, second nearest 3, and 3 / 3 == 1 exactly.
        var reference = Column(1, 3, 3);
        Assert.False(NearCopies.Find(Column(0), reference, rank: 2, ratio: 3).Samples[0].IsNearCopy);
        Assert.True(NearCopies.Find(Column(0), reference, rank: 2, ratio: 2.9).Samples[0].IsNearCopy);
        // Rank 3 is the duplicate 3; as many copies of the reference row as the rank give d_rank = 0: never a copy.
        Assert.Equal(3.0, NearCopies.Find(Column(0), reference, rank: 3).Samples[0].AtRank);
        Assert.False(NearCopies.Find(Column(3), reference, rank: 2).Samples[0].IsNearCopy);
    }

    [Fact]
    public void TrainingRowsAreTheirOwnCopiesAtDistanceZero()
    {
        var rng = new Random(11);
        var train = RandomSet(rng, 120, 48, spread: 1);
        var result = NearCopies.Find(train, train);
        for (int i = 0; i < train.Count; i++)
        {
            Assert.Equal(i, result.Samples[i].Reference);
            Assert.Equal(0.0, result.Samples[i].Nearest);
            Assert.True(result.Samples[i].AtRank > 0);
        }
        Assert.Equal(1.0, result.Report.Rate);
        Assert.Equal(0.0, result.Report.MedianNearest);
    }

    [Fact]
    public void PixelScaleCopiesKeepExactDistances()
    {
        // Rows like flattened RGB in [0, 1] (|a|^2 in the hundreds): a copy that differs in one channel
        // of one pixel by 1/255 is ~0.004 away, which the expanded form alone would blur by ~1e-6.
        var rng = new Random(12);
        var train = new double[100 * 768];
        for (int i = 0; i < train.Length; i++) train[i] = rng.Next(256) / 255.0;
        var query = train.AsSpan(17 * 768, 768).ToArray();
        query[300] = query[300] >= 0.5 ? query[300] - 1 / 255.0 : query[300] + 1 / 255.0;
        var result = NearCopies.Find(new FeatureMatrix(query, 1, 768), new FeatureMatrix(train, 100, 768));
        Assert.Equal(17, result.Samples[0].Reference);
        Assert.Equal(TensorPrimitives.Distance(query, train.AsSpan(17 * 768, 768)), result.Samples[0].Nearest);
        Assert.True(result.Samples[0].IsNearCopy);
    }

    [Fact]
    public void MatchesABruteForceSearchAcrossBlocks()
    {
        var rng = new Random(13);
        var reference = RandomSet(rng, 140, 29, spread: 1);
        var query = Stack(RandomSet(rng, 70, 29, spread: 1.1), Jitter(rng, reference, 40, 0.02));
        const int rank = 20;
        var expected = Enumerable.Range(0, query.Count).Select(q =>
        {
            var sorted = Enumerable.Range(0, reference.Count)
                .Select(j => (Distance: TensorPrimitives.Distance(query.Row(q), reference.Row(j)), Index: j))
                .OrderBy(p => p.Distance).ThenBy(p => p.Index).ToArray();
            return new NearestReference(q, sorted[0].Index, sorted[0].Distance, sorted[rank - 1].Distance,
                sorted[0].Distance < sorted[rank - 1].Distance / 2.5);
        }).ToArray();
        int copies = expected.Count(e => e.IsNearCopy);
        Assert.InRange(copies, 30, query.Count - 30);
        foreach (int blockRows in new[] { 3, 17, 0 })
        {
            var result = NearCopies.Find(query, reference, rank, 2.5, blockRows);
            Assert.Equal(expected, result.Samples);
            Assert.Equal(copies, result.Report.NearCopyCount);
        }
    }

    [Fact]
    public void ScalingBothSetsByTwoScalesDistancesExactlyAndKeepsFlags()
    {
        var rng = new Random(14);
        var reference = RandomSet(rng, 80, 20, spread: 1);
        var query = Stack(RandomSet(rng, 30, 20, spread: 1), Jitter(rng, reference, 10, 0.05));
        var a = NearCopies.Find(query, reference, rank: 10);
        var b = NearCopies.Find(Scale(query, 2), Scale(reference, 2), rank: 10);
        Assert.Contains(a.Samples, s => s.IsNearCopy);
        Assert.Contains(a.Samples, s => !s.IsNearCopy);
        for (int q = 0; q < query.Count; q++)
        {
            Assert.Equal(a.Samples[q] with { Nearest = 2 * a.Samples[q].Nearest, AtRank = 2 * a.Samples[q].AtRank }, b.Samples[q]);
        }
    }

    [Fact]
    public void ResultRoundTripsThroughJson()
    {
        var rng = new Random(15);
        var reference = RandomSet(rng, 60, 6, spread: 1);
        var result = NearCopies.Find(Jitter(rng, reference, 5, 0.1), reference, rank: 8);
        string json = JsonSerializer.Serialize(result);
        var back = JsonSerializer.Deserialize<NearCopyResult>(json)!;
        Assert.Equal(result.Report, back.Report);
        Assert.Equal(result.Samples, back.Samples);
        Assert.Contains("\"IsNearCopy\":", json);
    }

    [Fact]
    public void BadArgumentsNameTheParameter()
    {
        var rng = new Random(16);
        var reference = RandomSet(rng, 10, 4, spread: 1);
        var query = RandomSet(rng, 3, 4, spread: 1);
        Assert.Equal("rank", Assert.Throws<ArgumentOutOfRangeException>(() => NearCopies.Find(query, reference, rank: 1)).ParamName);
        Assert.Equal("ratio", Assert.Throws<ArgumentOutOfRangeException>(() => NearCopies.Find(query, reference, 5, ratio: 1)).ParamName);
        Assert.Equal("ratio", Assert.Throws<ArgumentOutOfRangeException>(() => NearCopies.Find(query, reference, 5, double.NaN)).ParamName);
        Assert.Equal("ratio", Assert.Throws<ArgumentOutOfRangeException>(() => NearCopies.Find(query, reference, 5, double.PositiveInfinity)).ParamName);
        var tooFew = Assert.Throws<ArgumentException>(() => NearCopies.Find(query, reference, rank: 11));
        Assert.Equal("reference", tooFew.ParamName);
        Assert.Contains("11", tooFew.Message);
        Assert.Equal("query", Assert.Throws<ArgumentException>(() => NearCopies.Find(new FeatureMatrix([], 0, 4), reference, 5)).ParamName);
        Assert.Equal("reference", Assert.Throws<ArgumentException>(() => NearCopies.Find(query, new FeatureMatrix([], 0, 4), 5)).ParamName);
        Assert.Equal("query", Assert.Throws<ArgumentException>(() => NearCopies.Find(RandomSet(rng, 3, 5, 1), reference, 5)).ParamName);
        var values = reference.Values.ToArray();
        values[9] = double.PositiveInfinity;
        var inf = Assert.Throws<ArgumentException>(() => NearCopies.Find(query, new FeatureMatrix(values, 10, 4), 5));
        Assert.Equal("reference", inf.ParamName);
        Assert.Contains("row 2", inf.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => NearCopies.Find(query, reference, 5).Closest(-1));
    }

    private static FeatureMatrix Jitter(Random rng, FeatureMatrix source, int count, double scale)
    {
        var values = new double[count * source.Dimension];
        for (int i = 0; i < count; i++)
        {
            int row = rng.Next(source.Count);
            for (int j = 0; j < source.Dimension; j++)
                values[i * source.Dimension + j] = source.Row(row)[j] + scale * Gaussian(rng);
        }
        return new FeatureMatrix(values, count, source.Dimension);
    }

    private static FeatureMatrix Scale(FeatureMatrix m, double factor) =>
        new(m.Values.Select(v => v * factor).ToArray(), m.Count, m.Dimension);
}
