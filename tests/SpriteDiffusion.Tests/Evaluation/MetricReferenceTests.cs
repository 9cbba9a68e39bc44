using MathNet.Numerics.LinearAlgebra;
using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>FID and KID against NumPy/SciPy values (tools/reference/metrics_fixtures.py), to 1e-6 relative.</summary>
public class MetricReferenceTests
{
    private const double Tolerance = 1e-6;

    [Theory]
    [InlineData("full_rank")]
    [InlineData("singular")]
    [InlineData("singular_relu512")]
    public void FrechetDistanceMatchesNumPy(string name)
    {
        var c = MetricFixtures.Case(name);
        var x = MetricFixtures.Features(c, "x");
        var y = MetricFixtures.Features(c, "y");
        var sx = FrechetDistance.Statistics(x);
        var sy = FrechetDistance.Statistics(y);
        MetricFixtures.AssertRelative(c.GetProperty("trace_x").GetDouble(), sx.Covariance.Trace(), Tolerance, "Tr(C1)");
        MetricFixtures.AssertRelative(c.GetProperty("trace_y").GetDouble(), sy.Covariance.Trace(), Tolerance, "Tr(C2)");
        double fid = FrechetDistance.Compute(sx, sy);
        MetricFixtures.AssertRelative(c.GetProperty("fid").GetDouble(), fid, Tolerance, "FID");
        // The one term that needs the eigen-decompositions, recovered from the total.
        double traceSqrt = (c.GetProperty("mean_term").GetDouble() + sx.Covariance.Trace() + sy.Covariance.Trace() - fid) / 2;
        MetricFixtures.AssertRelative(c.GetProperty("trace_sqrt_product").GetDouble(), traceSqrt, Tolerance, "Tr((C1 C2)^1/2)");
    }

    /// <summary>Fewer images than dimensions goes through image space, more through the d x d route; both must give NumPy's value.</summary>
    [Theory]
    [InlineData("full_rank")]
    [InlineData("singular")]
    [InlineData("singular_relu512")]
    public void FrechetDistanceFromFeaturesMatchesNumPyOnEitherRoute(string name)
    {
        var c = MetricFixtures.Case(name);
        var x = MetricFixtures.Features(c, "x");
        var y = MetricFixtures.Features(c, "y");
        MetricFixtures.AssertRelative(c.GetProperty("fid").GetDouble(), FrechetDistance.Compute(x, y), Tolerance, "FID");
        MetricFixtures.AssertRelative(c.GetProperty("fid").GetDouble(), FrechetDistance.Compute(y, x), Tolerance, "FID(y, x)");
    }

    [Fact]
    public void SingularCaseReallyIsSingular()
    {
        var c = MetricFixtures.Case("singular_relu512");
        var x = MetricFixtures.Features(c, "x");
        Assert.True(x.Count < x.Dimension);
        var rank = FrechetDistance.Statistics(x).Covariance.Rank();
        Assert.True(rank < x.Count, $"rank {rank}");
    }

    [Theory]
    [InlineData("full_rank")]
    [InlineData("singular")]
    public void FrechetDistanceIsSymmetric(string name)
    {
        var c = MetricFixtures.Case(name);
        var x = MetricFixtures.Features(c, "x");
        var y = MetricFixtures.Features(c, "y");
        MetricFixtures.AssertRelative(FrechetDistance.Compute(x, y), FrechetDistance.Compute(y, x), Tolerance, "FID(y, x)");
    }

    [Theory]
    [InlineData("full_rank")]
    [InlineData("singular_relu512")]
    public void FrechetDistanceOfASetWithItselfIsZero(string name)
    {
        var x = MetricFixtures.Features(MetricFixtures.Case(name), "x");
        double trace = FrechetDistance.Statistics(x).Covariance.Trace();
        double fid = FrechetDistance.Compute(x, x);
        Assert.True(Math.Abs(fid) <= 1e-9 * trace, $"FID(x, x) = {fid:R} with Tr(C) = {trace}");
    }

    [Fact]
    public void SquareRootOfAKnownMatrix()
    {
        // [[5, 4], [4, 5]] = V diag(9, 1) V^T, so its root is V diag(3, 1) V^T = [[2, 1], [1, 2]].
        var m = Matrix<double>.Build.DenseOfArray(new double[,] { { 5, 4 }, { 4, 5 } });
        var root = FrechetDistance.SymmetricSquareRoot(m);
        Assert.Equal(2, root[0, 0], 12);
        Assert.Equal(1, root[0, 1], 12);
        Assert.Equal(2, root[1, 1], 12);
    }

    [Theory]
    [InlineData("full_rank")]
    [InlineData("singular")]
    [InlineData("singular_relu512")]
    public void UnbiasedMmdMatchesNumPy(string name)
    {
        var c = MetricFixtures.Case(name);
        MetricFixtures.AssertRelative(c.GetProperty("mmd2_full").GetDouble(),
            KernelInceptionDistance.UnbiasedMmd2(MetricFixtures.Features(c, "x"), MetricFixtures.Features(c, "y")), Tolerance, "MMD^2");
    }

    [Theory]
    [InlineData("full_rank")]
    [InlineData("singular")]
    [InlineData("singular_relu512")]
    public void KidOverGivenSubsetsMatchesNumPy(string name)
    {
        var c = MetricFixtures.Case(name);
        var subsets = c.GetProperty("kid_subsets").EnumerateArray()
            .Select(s => (s.GetProperty("x").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                          s.GetProperty("y").EnumerateArray().Select(e => e.GetInt32()).ToArray()))
            .ToList();
        var kid = KernelInceptionDistance.Compute(MetricFixtures.Features(c, "x"), MetricFixtures.Features(c, "y"), subsets);
        MetricFixtures.AssertRelative(c.GetProperty("kid_mean").GetDouble(), kid.Mean, Tolerance, "KID mean");
        MetricFixtures.AssertRelative(c.GetProperty("kid_std").GetDouble(), kid.StandardDeviation, Tolerance, "KID std");
        Assert.Equal(subsets.Count, kid.Subsets);
        Assert.Equal(subsets[0].Item1.Length, kid.SubsetSize);
    }

    [Fact]
    public void RandomSubsetsThatHoldEverythingGiveTheFullMmd()
    {
        var c = MetricFixtures.Case("singular");
        var x = MetricFixtures.Features(c, "x");
        var yAll = MetricFixtures.Features(c, "y");
        var y = new FeatureMatrix(yAll.Values.AsSpan(0, x.Count * x.Dimension).ToArray(), x.Count, x.Dimension);
        // Each subset is then a permutation of all rows, and the estimate does not depend on order.
        var kid = KernelInceptionDistance.Compute(x, y, subsets: 4, subsetSize: 1000, seed: 5);
        Assert.Equal(x.Count, kid.SubsetSize);
        MetricFixtures.AssertRelative(KernelInceptionDistance.UnbiasedMmd2(x, y), kid.Mean, 1e-12, "KID mean");
        Assert.True(kid.StandardDeviation <= 1e-12 * Math.Abs(kid.Mean), $"std {kid.StandardDeviation}");
    }
}
