using SpriteDiffusion.Evaluation;
using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>
/// The behaviour FID and KID must have, on images run through the real ResNet-18: zero for a set
/// against itself, small between two halves of one kind of image, large against noise. The same
/// checks on the bundled sprites are in EvaluationRealDataTests.
/// </summary>
[Collection(ResNetCollection.Name)]
public class EvaluationProceduralDataTests(ResNetFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void FidOfASetAgainstItselfIsZero()
    {
        var result = fixture.Evaluator.CompareFeatures(fixture.SpriteFeatures, fixture.SpriteFeatures);
        double trace = FrechetDistance.Statistics(fixture.SpriteFeatures).Covariance.Trace();
        output.WriteLine($"{result.FidName} of a set with itself: {result.Fid:E3} (Tr C = {trace:F3})");
        Assert.True(Math.Abs(result.Fid) <= 1e-9 * trace, $"{result.Fid}");
    }

    [Fact]
    public void FidBetweenHalvesIsSmallAndAgainstNoiseLarge()
    {
        var (a, b) = RandomHalves.Of(fixture.SpriteFeatures);
        double halves = FrechetDistance.Compute(a, b);
        double noise = FrechetDistance.Compute(a, fixture.NoiseFeatures);
        output.WriteLine($"FID (ResNet-18 features), {a.Count} vs {b.Count} procedural sprites: {halves:F3}; sprites vs {fixture.NoiseFeatures.Count} noise images: {noise:F3}");
        Assert.True(halves > 0);
        Assert.True(noise > 4 * halves, $"halves {halves}, noise {noise}");
    }

    [Fact]
    public void KidBetweenHalvesIsNearZero()
    {
        var (a, b) = RandomHalves.Of(fixture.SpriteFeatures);
        var halves = KernelInceptionDistance.Compute(a, b, subsets: 50, subsetSize: 20, seed: 1);
        var noise = KernelInceptionDistance.Compute(a, fixture.NoiseFeatures, subsets: 50, subsetSize: 20, seed: 1);
        output.WriteLine($"KID (ResNet-18 features), halves: {halves.Mean:E3} ± {halves.StandardDeviation:E2}; against noise: {noise.Mean:E3} ± {noise.StandardDeviation:E2}");
        Assert.True(Math.Abs(halves.Mean) < 0.05 * noise.Mean, $"halves {halves.Mean}, noise {noise.Mean}");
        Assert.True(noise.Mean > 10 * noise.StandardDeviation);
    }

    [Fact]
    public void CompareRunsTheWholePipelineAndTimesIt()
    {
        var result = fixture.Evaluator.Compare(fixture.Sprites.Take(6), fixture.Noise.Take(6));
        Assert.Equal("FID (ResNet-18 features)", result.FidName);
        Assert.Equal(6, result.RealCount);
        Assert.True(result.Fid > 0 && double.IsFinite(result.Fid));
        Assert.True(result.RealFeatureSeconds > 0 && result.GeneratedFeatureSeconds > 0 && result.FeaturesPerSecond > 0);
        Assert.Equal(6, result.Kid.SubsetSize);
    }
}
