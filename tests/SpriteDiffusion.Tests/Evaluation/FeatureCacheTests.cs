using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>The real set's features kept between evaluations: served only for exactly the same images and network.</summary>
public sealed class FeatureCacheTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "feature-cache-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true); }

    /// <summary>Features that depend on every pixel (sums of sines), counting its calls.</summary>
    private sealed class CountingExtractor : IFeatureExtractor
    {
        public int Calls;
        public string Name => "counting test network";
        public string ShortName => "test";
        public int Dimension => 5;
        public void Extract(ReadOnlySpan<float> imagesChw, int count, int channels, int size, Span<double> features)
        {
            Calls++;
            int per = channels * size * size;
            for (int i = 0; i < count; i++)
            for (int d = 0; d < Dimension; d++)
            {
                double s = 0;
                for (int p = 0; p < per; p++) s += Math.Sin((d + 1) * 0.37 * imagesChw[i * per + p] + p);
                features[i * Dimension + d] = s;
            }
        }
        public void Dispose() { }
    }

    private static ImageSet Images(int seed, int count = 7)
    {
        var rng = new Random(seed);
        var chw = new float[count * 3 * 4 * 4];
        for (int i = 0; i < chw.Length; i++) chw[i] = (float)(rng.NextDouble() * 2 - 1);
        return new ImageSet(chw, count, 3, 4);
    }

    [Fact]
    public void TheSameImagesAndNetworkAreServedFromTheCacheBitForBit()
    {
        var extractor = new CountingExtractor();
        var evaluator = new Evaluator(extractor);
        var cache = new FeatureCache(_dir);
        var first = cache.GetOrExtract(evaluator, Images(1), "net A", null, out bool hit1);
        var second = cache.GetOrExtract(evaluator, Images(1), "net A", null, out bool hit2);
        Assert.False(hit1);
        Assert.True(hit2);
        Assert.Equal(1, extractor.Calls);
        Assert.Equal(first.Values, second.Values);
        Assert.Equal(first.Values, evaluator.Extract(Images(1)).Values);
    }

    [Fact]
    public void OnePixelOrTheNetworksIdentityChangedIsExtractedAgain()
    {
        var extractor = new CountingExtractor();
        var evaluator = new Evaluator(extractor);
        var cache = new FeatureCache(_dir);
        cache.GetOrExtract(evaluator, Images(2), "net A", null, out _);
        var changed = Images(2);
        changed.Chw[^1] = changed.Chw[^1] > 0 ? changed.Chw[^1] - 1e-6f : changed.Chw[^1] + 1e-6f;
        var fresh = cache.GetOrExtract(evaluator, changed, "net A", null, out bool hitPixel);
        cache.GetOrExtract(evaluator, Images(2), "net B", null, out bool hitNetwork);
        Assert.False(hitPixel);
        Assert.False(hitNetwork);
        Assert.Equal(3, extractor.Calls);
        Assert.Equal(evaluator.Extract(changed).Values, fresh.Values);
    }

    [Fact]
    public void ADamagedEntryIsExtractedAgainAndReplaced()
    {
        var extractor = new CountingExtractor();
        var evaluator = new Evaluator(extractor);
        var cache = new FeatureCache(_dir);
        var expected = cache.GetOrExtract(evaluator, Images(3), "net A", null, out _);
        string entry = Assert.Single(Directory.GetFiles(_dir, "*.npy"));
        File.WriteAllBytes(entry, File.ReadAllBytes(entry)[..40]);
        var again = cache.GetOrExtract(evaluator, Images(3), "net A", null, out bool hit);
        Assert.False(hit);
        Assert.Equal(expected.Values, again.Values);
        cache.GetOrExtract(evaluator, Images(3), "net A", null, out bool hitAfterRepair);
        Assert.True(hitAfterRepair);
    }

    [Fact]
    public void AFileNetworksIdentityFollowsItsContents()
    {
        Directory.CreateDirectory(_dir);
        string model = Path.Combine(_dir, "model.onnx");
        File.WriteAllText(model, "weights one");
        string a = FeatureCache.FileIdentity("onnx|size 299", model);
        File.WriteAllText(model, "weights two");
        Assert.NotEqual(a, FeatureCache.FileIdentity("onnx|size 299", model));
        Assert.NotEqual(FeatureCache.FileIdentity("onnx|size 299", model), FeatureCache.FileIdentity("onnx|size 224", model));
    }
}
