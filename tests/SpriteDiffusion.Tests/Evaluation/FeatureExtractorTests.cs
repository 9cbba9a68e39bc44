using Microsoft.ML.OnnxRuntime;
using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

[Collection(ResNetCollection.Name)]
public class FeatureExtractorTests(ResNetFixture fixture)
{
    [Fact]
    public void NamesTheNetworkItMeasuresWith()
    {
        Assert.Equal(512, fixture.Extractor.Dimension);
        Assert.Equal(224, fixture.Extractor.InputSize);
        Assert.Contains("ResNet-18", fixture.Extractor.Name);
        Assert.Equal("FID (ResNet-18 features)", MetricNames.Fid(fixture.Extractor));
        Assert.Equal("KID (ResNet-18 features)", MetricNames.Kid(fixture.Extractor));
    }

    [Fact]
    public void FeaturesArePooledActivationsThatTellImagesApart()
    {
        var f = fixture.SpriteFeatures;
        Assert.All(f.Values, v => Assert.True(double.IsFinite(v) && v >= 0, $"feature {v}"));
        Assert.True(f.Values.Count(v => v > 0) > f.Values.Length / 4, "most pooled ReLU features should be active");
        for (int i = 1; i < f.Count; i++)
            Assert.False(f.Row(0).SequenceEqual(f.Row(i)), $"images 0 and {i} gave identical features");
    }

    [Fact]
    public void BatchingDoesNotChangeFeatures()
    {
        // Five images are one partial batch of the fixture's batch size 8; the reference rows came in full batches.
        var five = fixture.Sprites.Take(13).Select([8, 9, 10, 11, 12]);
        var features = new double[5 * 512];
        fixture.Extractor.Extract(five.Chw, 5, 3, 16, features);
        var single = new double[512];
        fixture.Extractor.Extract(fixture.Sprites.Image(12), 1, 3, 16, single);
        for (int i = 0; i < 5; i++)
            AssertClose(fixture.SpriteFeatures.Row(8 + i), features.AsSpan(i * 512, 512), $"image {8 + i} in a batch of 5");
        AssertClose(fixture.SpriteFeatures.Row(12), single, "image 12 alone");
    }

    [Fact]
    public void PreprocessingModelTakesRgbBytesAndGivesBgrMinusTheMeanImage()
    {
        // What the chain relies on: the package's preprocessing model maps RGB 0-255 to BGR minus a mean image.
        string path = Path.Combine(ResNet18Features.DefaultModelDirectory, ResNet18Features.PreprocessFile);
        using var session = new InferenceSession(path);
        var rng = new Random(3);
        var image = new float[3 * 224 * 224];
        for (int i = 0; i < image.Length; i++) image[i] = rng.Next(256);
        var zero = new float[image.Length];
        float[] Run(float[] input)
        {
            using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, 224, 224]);
            using var results = session.Run(new RunOptions(), ["OriginalInput"], [value], ["PreprocessedInput"]);
            return results[0].GetTensorDataAsSpan<float>().ToArray();
        }
        var output = Run(image);
        var minusMean = Run(zero);
        int plane = 224 * 224;
        Assert.InRange(-minusMean.Average(), 90, 140);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < plane; p += 97)
                Assert.Equal(image[(2 - c) * plane + p], output[c * plane + p] - minusMean[c * plane + p], 3);
    }

    [Fact]
    public void SameImagesGiveIdenticalFeatures()
    {
        var again = fixture.Evaluator.Extract(fixture.Noise.Take(4));
        for (int i = 0; i < 4; i++)
            Assert.True(again.Row(i).SequenceEqual(fixture.NoiseFeatures.Row(i)), $"noise image {i}");
    }

    private static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what)
    {
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-4 * (1 + Math.Abs(expected[k])), $"{what}, feature {k}: {expected[k]} vs {actual[k]}");
    }
}
