using SpriteDiffusion.Data;
using SpriteDiffusion.Evaluation;
using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>
/// FID and KID over ResNet-18 features on the bundled sprites: zero for a set against itself,
/// small between two random halves, large against uniform noise. Sets are small (a few dozen
/// images) to keep the network's cost in seconds; the full-size numbers are in the evaluation notes.
/// </summary>
[Collection(ResNetCollection.Name)]
public class EvaluationRealDataTests(ResNetFixture fixture, ITestOutputHelper output)
{
    private const int HalfSize = 32;

    private static readonly Lazy<ImageSet> Sprites = new(() =>
    {
        var data = SpriteDataset.LoadDirectory(BundledData.DefaultDirectory).Subset(2 * HalfSize, seed: 7);
        return new ImageSet(data.Images, data.Count, 3, data.ImageSize);
    });

    private static readonly object FeaturesLock = new();
    private static FeatureMatrix? _features;

    // Test classes are built per test; the features are computed once per run.
    private FeatureMatrix SpriteFeatures
    {
        get
        {
            lock (FeaturesLock)
                return _features ??= fixture.Evaluator.Extract(Sprites.Value);
        }
    }

    [Fact]
    public void BundledSpritesAreRealImagesOfTheExpectedShape()
    {
        Assert.Equal(2 * HalfSize, Sprites.Value.Count);
        Assert.Equal(16, Sprites.Value.Size);
        Assert.Contains(Sprites.Value.Chw, v => v < -0.5f);
        Assert.Contains(Sprites.Value.Chw, v => v > 0.5f);
    }

    [Fact]
    public void FidOfTheDataAgainstItselfIsZero()
    {
        double fid = FrechetDistance.Compute(SpriteFeatures, SpriteFeatures);
        double trace = FrechetDistance.Statistics(SpriteFeatures).Covariance.Trace();
        output.WriteLine($"FID (ResNet-18 features), {SpriteFeatures.Count} sprites against themselves: {fid:E3}");
        Assert.True(Math.Abs(fid) <= 1e-9 * trace, $"{fid}");
    }

    [Fact]
    public void FidBetweenRandomHalvesIsSmallAndAgainstNoiseLarge()
    {
        var (a, b) = RandomHalves.Of(SpriteFeatures);
        double halves = FrechetDistance.Compute(a, b);
        double againstNoise = FrechetDistance.Compute(a, fixture.NoiseFeatures);
        output.WriteLine($"FID (ResNet-18 features): halves {halves:F3}, against noise {againstNoise:F3}");
        Assert.True(halves > 0);
        Assert.True(againstNoise > 4 * halves, $"halves {halves}, noise {againstNoise}");
    }

    [Fact]
    public void KidBetweenRandomHalvesIsNearZero()
    {
        var (a, b) = RandomHalves.Of(SpriteFeatures);
        var halves = KernelInceptionDistance.Compute(a, b, subsets: 50, subsetSize: 20, seed: 1);
        var noise = KernelInceptionDistance.Compute(a, fixture.NoiseFeatures, subsets: 50, subsetSize: 20, seed: 1);
        output.WriteLine($"KID (ResNet-18 features): halves {halves.Mean:E3} ± {halves.StandardDeviation:E2}, against noise {noise.Mean:E3}");
        Assert.True(Math.Abs(halves.Mean) < 0.05 * noise.Mean, $"halves {halves.Mean}, noise {noise.Mean}");
    }
}
