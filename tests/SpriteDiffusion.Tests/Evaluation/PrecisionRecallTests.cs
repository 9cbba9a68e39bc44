using System.Numerics.Tensors;
using System.Text.Json;
using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>Known answers, invariants and argument errors of <see cref="ImprovedPrecisionRecall"/> and <see cref="FeatureManifold"/>.</summary>
public class PrecisionRecallTests
{
    [Fact]
    public void RadiiOnALineAreTheKthGaps()
    {
        // Points 0, 1, 3, 6, 10: nearest others at 1, 1, 2, 3, 4; second nearest at 3, 2, 3, 4, 7.
        var line = Column(0, 1, 3, 6, 10);
        Assert.Equal(new[] { 1.0, 1, 2, 3, 4 }, new FeatureManifold(line, 1).Radii);
        Assert.Equal(new[] { 3.0, 2, 3, 4, 7 }, new FeatureManifold(line, 2).Radii);
    }

    [Fact]
    public void PrecisionOnALineCountsBallsWithTheirSurface()
    {
        var real = Column(0, 1, 3, 6, 10); // k = 1 radii 1, 1, 2, 3, 4
        // -1: only on the surface of 0's ball; 4.5: inside 3's; 7: inside 6's; 30, 31: outside all.
        var generated = Column(-1, 4.5, 7, 30, 31);
        Assert.Equal(new[] { true, true, true, false, false }, new FeatureManifold(real, 1).Contains(generated));
        // Generated radii (k = 1): 5.5, 2.5, 2.5, 1, 1. Real 10 is 3 from 7 and 20 from 30: the only one outside.
        Assert.Equal(new[] { 5.5, 2.5, 2.5, 1, 1 }, new FeatureManifold(generated, 1).Radii);
        var pr = ImprovedPrecisionRecall.Compute(real, generated, k: 1);
        Assert.Equal(new PrecisionRecall(3 / 5.0, 4 / 5.0, 1, 5, 5), pr);
    }

    [Fact]
    public void ASetAgainstItselfHasPrecisionAndRecallOne()
    {
        var x = RandomSet(new Random(1), 180, 40, spread: 3);
        var pr = ImprovedPrecisionRecall.Compute(x, x);
        Assert.Equal(1.0, pr.Precision);
        Assert.Equal(1.0, pr.Recall);
    }

    [Fact]
    public void RadiiCountDuplicateRowsAsNeighbours()
    {
        // With every row twice, the sorted distances of a row to the others are 0, d1, d1, d2, d2, ...
        // so the doubled set's 6th (and 7th) neighbour is the original's 3rd. Exclusion by value
        // instead of by row would give the original's 6th.
        var rng = new Random(2);
        var real = RandomSet(rng, 90, 12, spread: 2);
        var doubled = Stack(real, real);
        var generated = RandomSet(rng, 70, 12, spread: 2.5);
        var original = new FeatureManifold(real, 3);
        double precision = original.Coverage(generated);
        Assert.InRange(precision, 0.05, 0.95);
        foreach (int k in new[] { 6, 7 })
        {
            var twice = new FeatureManifold(doubled, k);
            for (int i = 0; i < doubled.Count; i++)
                Assert.Equal(original.Radii[i % real.Count], twice.Radii[i]);
            Assert.Equal(original.Coverage(generated), twice.Coverage(generated));
        }
        // Recall counts each copy of a real row, and both copies are in or out together.
        var generatedManifold = new FeatureManifold(generated, 3);
        double recall = generatedManifold.Coverage(real);
        Assert.InRange(recall, 0.05, 0.95);
        Assert.Equal(recall, generatedManifold.Coverage(doubled));
        Assert.True(new FeatureManifold(doubled, 3).Radii.Zip(original.Radii).All(p => p.First <= p.Second));
    }

    [Fact]
    public void KCopiesOfARowGiveItAZeroRadiusThatStillHoldsItself()
    {
        var rng = new Random(3);
        var set = RandomSet(rng, 40, 8, spread: 1);
        var values = set.Values.ToArray();
        for (int c = 1; c <= 3; c++)
            set.Row(0).CopyTo(values.AsSpan(c * 8, 8));
        var manifold = new FeatureManifold(new FeatureMatrix(values, 40, 8), 3);
        Assert.Equal(0.0, manifold.Radii[0]);
        Assert.True(manifold.Radii[4] > 0);
        var exact = new FeatureMatrix(set.Row(0).ToArray(), 1, 8);
        Assert.True(manifold.Contains(exact)[0]);
    }

    [Fact]
    public void MatchesABruteForceSearchAcrossBlocks()
    {
        var rng = new Random(4);
        var real = RandomSet(rng, 230, 37, spread: 1);
        var generated = RandomSet(rng, 170, 37, spread: 0.95);
        var expectedRealRadii = BruteRadii(real, 3);
        var expectedGeneratedRadii = BruteRadii(generated, 3);
        bool[] expectedPrecision = BruteInside(generated, real, expectedRealRadii);
        bool[] expectedRecall = BruteInside(real, generated, expectedGeneratedRadii);
        double precision = expectedPrecision.Count(b => b) / 170.0, recall = expectedRecall.Count(b => b) / 230.0;
        Assert.True(precision is > 0.05 and < 0.95 && recall is > 0.05 and < 0.95, $"precision {precision}, recall {recall}");
        // 7 and 64 rows per block: an odd block size, many blocks and a last partial one.
        foreach (int blockRows in new[] { 7, 64, 0 })
        {
            var manifold = new FeatureManifold(real, 3, blockRows, "real");
            Assert.Equal(expectedRealRadii, manifold.Radii);
            Assert.Equal(expectedPrecision, manifold.Contains(generated));
            var pr = ImprovedPrecisionRecall.Compute(real, generated, 3, blockRows);
            Assert.Equal(precision, pr.Precision);
            Assert.Equal(recall, pr.Recall);
        }
    }

    [Fact]
    public void OrderOfRowsDoesNotMatter()
    {
        var rng = new Random(5);
        var real = RandomSet(rng, 120, 16, spread: 1);
        var generated = RandomSet(rng, 100, 16, spread: 1.3);
        var pr = ImprovedPrecisionRecall.Compute(real, generated);
        Assert.InRange(pr.Precision, 0.05, 0.95);
        var shuffled = Reverse(generated);
        Assert.Equal(pr with { }, ImprovedPrecisionRecall.Compute(Reverse(real), shuffled));
        var inside = new FeatureManifold(real).Contains(generated);
        Assert.Equal(inside.Reverse(), new FeatureManifold(real).Contains(shuffled));
    }

    [Fact]
    public void ResultRoundTripsThroughJson()
    {
        var pr = new PrecisionRecall(0.625, 0.4375, 3, 3000, 3781);
        string json = JsonSerializer.Serialize(pr);
        Assert.Contains("\"Precision\":0.625", json);
        Assert.Equal(pr, JsonSerializer.Deserialize<PrecisionRecall>(json));
    }

    [Fact]
    public void BadArgumentsNameTheParameter()
    {
        var rng = new Random(6);
        var five = RandomSet(rng, 5, 4, spread: 1);
        var other = RandomSet(rng, 8, 3, spread: 1);
        var empty = new FeatureMatrix([], 0, 4);

        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => new FeatureManifold(five, 0)).ParamName);
        // k = 5 needs a 5th other sample, i.e. 6 rows.
        var tooFew = Assert.Throws<ArgumentException>(() => ImprovedPrecisionRecall.Compute(five, RandomSet(rng, 9, 4, 1), k: 5));
        Assert.Equal("real", tooFew.ParamName);
        Assert.Contains("6 samples", tooFew.Message);
        Assert.Equal("points", Assert.Throws<ArgumentException>(() => new FeatureManifold(empty)).ParamName);
        Assert.Equal("generated", Assert.Throws<ArgumentException>(() => ImprovedPrecisionRecall.Compute(five, other, k: 2)).ParamName);
        Assert.Equal("queries", Assert.Throws<ArgumentException>(() => new FeatureManifold(five, 2).Contains(other)).ParamName);
        Assert.Equal("queries", Assert.Throws<ArgumentException>(() => new FeatureManifold(five, 2).Contains(empty)).ParamName);
        Assert.Equal("generated", Assert.Throws<ArgumentException>(
            () => ImprovedPrecisionRecall.Compute(new FeatureManifold(five, 2), new FeatureManifold(five, 3))).ParamName);

        var values = five.Values.ToArray();
        values[7] = double.NaN;
        var nan = Assert.Throws<ArgumentException>(() => new FeatureManifold(new FeatureMatrix(values, 5, 4), 2));
        Assert.Equal("points", nan.ParamName);
        Assert.Contains("row 1", nan.Message);
    }

    internal static FeatureMatrix RandomSet(Random rng, int count, int dimension, double spread)
    {
        // Four clusters, so that neighbourhoods differ in size and the answers are not all alike.
        // Their centres depend only on the dimension, so every set of one test shares them.
        var centreRng = new Random(dimension);
        var centres = new double[4 * dimension];
        for (int i = 0; i < centres.Length; i++) centres[i] = 3 * Gaussian(centreRng);
        var values = new double[count * dimension];
        for (int r = 0; r < count; r++)
        {
            int c = rng.Next(4);
            for (int j = 0; j < dimension; j++)
                values[r * dimension + j] = centres[c * dimension + j] + spread * Gaussian(rng);
        }
        return new FeatureMatrix(values, count, dimension);
    }

    internal static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    internal static FeatureMatrix Column(params double[] values) => new(values, values.Length, 1);

    internal static FeatureMatrix Stack(FeatureMatrix a, FeatureMatrix b) =>
        new([.. a.Values, .. b.Values], a.Count + b.Count, a.Dimension);

    internal static FeatureMatrix Reverse(FeatureMatrix m)
    {
        var values = new double[m.Values.Length];
        for (int i = 0; i < m.Count; i++)
            m.Row(i).CopyTo(values.AsSpan((m.Count - 1 - i) * m.Dimension));
        return new FeatureMatrix(values, m.Count, m.Dimension);
    }

    private static double[] BruteRadii(FeatureMatrix s, int k) =>
        Enumerable.Range(0, s.Count)
            .Select(i => Enumerable.Range(0, s.Count).Where(j => j != i).Select(j => TensorPrimitives.Distance(s.Row(i), s.Row(j))).Order().ElementAt(k - 1))
            .ToArray();

    private static bool[] BruteInside(FeatureMatrix x, FeatureMatrix s, double[] radii) =>
        Enumerable.Range(0, x.Count)
            .Select(i => Enumerable.Range(0, s.Count).Any(j => TensorPrimitives.Distance(x.Row(i), s.Row(j)) <= radii[j]))
            .ToArray();
}
