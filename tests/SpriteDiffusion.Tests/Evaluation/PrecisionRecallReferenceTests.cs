using SpriteDiffusion.Evaluation;
using static SpriteDiffusion.Tests.Evaluation.PrecisionRecallFixtures;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>
/// Precision/recall and near-copies against brute-force NumPy/SciPy values
/// (tools/reference/metrics_pr_fixtures.py): every decision and rate exactly, distances to 1e-9 relative.
/// </summary>
public class PrecisionRecallReferenceTests
{
    private const double Tolerance = 1e-9;

    public static TheoryData<string> Cases => new() { "random", "all_copies", "no_copies", "ties", "pixels" };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PrecisionAndRecallMatchNumPy(string name)
    {
        var c = Case(name);
        var expected = c.GetProperty("precision_recall");
        var real = Set(c, expected.GetProperty("real").GetString()!);
        var generated = Set(c, expected.GetProperty("generated").GetString()!);
        int k = expected.GetProperty("k").GetInt32();

        var pr = ImprovedPrecisionRecall.Compute(real, generated, k);
        Assert.Equal(expected.GetProperty("precision").GetDouble(), pr.Precision);
        Assert.Equal(expected.GetProperty("recall").GetDouble(), pr.Recall);
        Assert.Equal((k, real.Count, generated.Count), (pr.K, pr.RealCount, pr.GeneratedCount));

        var realManifold = new FeatureManifold(real, k);
        var generatedManifold = new FeatureManifold(generated, k);
        AssertRadii(Doubles(expected.GetProperty("real_radii")), realManifold.Radii, "real radius");
        AssertRadii(Doubles(expected.GetProperty("generated_radii")), generatedManifold.Radii, "generated radius");
        Assert.Equal(Flags(expected.GetProperty("generated_inside")), realManifold.Contains(generated));
        Assert.Equal(Flags(expected.GetProperty("real_inside")), generatedManifold.Contains(real));
        Assert.Equal(pr, ImprovedPrecisionRecall.Compute(realManifold, generatedManifold));
    }

    [Fact]
    public void BoundaryPointsCountAsInside()
    {
        // The integer case puts whole faces exactly on ball surfaces; strict < would give other numbers.
        var expected = Case("ties").GetProperty("precision_recall");
        var pr = ImprovedPrecisionRecall.Compute(Set(Case("ties"), "real"), Set(Case("ties"), "fake"));
        Assert.Equal(expected.GetProperty("precision").GetDouble(), pr.Precision);
        Assert.NotEqual(expected.GetProperty("precision_strict").GetDouble(), pr.Precision);
        Assert.Equal(expected.GetProperty("recall").GetDouble(), pr.Recall);
        Assert.NotEqual(expected.GetProperty("recall_strict").GetDouble(), pr.Recall);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void NearCopiesMatchNumPy(string name)
    {
        var c = Case(name);
        foreach (var expected in c.GetProperty("near_copies").EnumerateArray())
        {
            var query = Set(c, expected.GetProperty("query").GetString()!);
            var reference = Set(c, expected.GetProperty("reference").GetString()!);
            int rank = expected.GetProperty("rank").GetInt32();
            double ratio = expected.GetProperty("ratio").GetDouble();
            var result = NearCopies.Find(query, reference, rank, ratio);
            string what = $"{name} {expected.GetProperty("query").GetString()}";

            var nearest = Ints(expected.GetProperty("nearest_index"));
            var d1 = Doubles(expected.GetProperty("d1"));
            var dRank = Doubles(expected.GetProperty("d_rank"));
            var flags = Flags(expected.GetProperty("flags"));
            Assert.Equal(query.Count, result.Samples.Count);
            for (int q = 0; q < query.Count; q++)
            {
                var s = result.Samples[q];
                Assert.Equal(q, s.Query);
                Assert.Equal(nearest[q], s.Reference);
                AssertClose(d1[q], s.Nearest, Tolerance, $"{what} d1[{q}]");
                AssertClose(dRank[q], s.AtRank, Tolerance, $"{what} d_rank[{q}]");
                Assert.Equal(flags[q], s.IsNearCopy);
            }
            var report = result.Report;
            Assert.Equal(expected.GetProperty("count").GetInt32(), report.NearCopyCount);
            Assert.Equal(expected.GetProperty("rate").GetDouble(), report.Rate);
            AssertClose(expected.GetProperty("mean_d1").GetDouble(), report.MeanNearest, Tolerance, $"{what} mean d1");
            AssertClose(expected.GetProperty("median_d1").GetDouble(), report.MedianNearest, Tolerance, $"{what} median d1");
            Assert.Equal((rank, ratio, query.Count, reference.Count), (report.Rank, report.Ratio, report.QueryCount, report.ReferenceCount));
        }
    }

    [Fact]
    public void FixturesAreNotTrivial()
    {
        // Guards the fixtures themselves: a regenerated set where every answer is 0 or 1 would test little.
        var random = Case("random");
        double precision = random.GetProperty("precision_recall").GetProperty("precision").GetDouble();
        double recall = random.GetProperty("precision_recall").GetProperty("recall").GetDouble();
        Assert.InRange(precision, 0.05, 0.95);
        Assert.InRange(recall, 0.05, 0.95);
        double rate = random.GetProperty("near_copies")[0].GetProperty("rate").GetDouble();
        Assert.InRange(rate, 0.05, 0.95);
        Assert.Equal(1.0, Case("all_copies").GetProperty("near_copies")[0].GetProperty("rate").GetDouble());
        Assert.Equal(0.0, Case("no_copies").GetProperty("near_copies")[0].GetProperty("rate").GetDouble());
        var ties = Case("ties").GetProperty("near_copies")[0];
        Assert.NotEqual(Flags(ties.GetProperty("flags")), Flags(ties.GetProperty("flags_non_strict")));
    }

    [Fact]
    public void HeldOutBaselineUsesTheSameRule()
    {
        // Held-out variants of training sprites are near-copies by the rule too; that share is what
        // a generated set's rate must be read against.
        var c = Case("pixels");
        var train = Set(c, "train");
        var generated = NearCopies.Find(Set(c, "fake"), train).Report;
        var baseline = NearCopies.Find(Set(c, "heldout"), train).Report;
        var expected = c.GetProperty("near_copies");
        Assert.Equal(expected[0].GetProperty("rate").GetDouble(), generated.Rate);
        Assert.Equal(expected[1].GetProperty("rate").GetDouble(), baseline.Rate);
        Assert.True(baseline.MedianNearest < generated.MedianNearest, $"{baseline.MedianNearest} vs {generated.MedianNearest}");
    }

    private static void AssertRadii(double[] expected, IReadOnlyList<double> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++)
            AssertClose(expected[i], actual[i], Tolerance, $"{what} {i}");
    }
}
