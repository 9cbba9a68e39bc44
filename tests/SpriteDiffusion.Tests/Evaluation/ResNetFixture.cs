using SpriteDiffusion.Evaluation;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>
/// One ResNet-18 session and the features of a few small image sets, shared by every test that
/// needs the network: each image costs ~1.8 GFLOP, so the sets are computed once.
/// </summary>
public sealed class ResNetFixture : IDisposable
{
    public const int SpriteCount = 48;
    public const int NoiseCount = 24;

    public ResNetFixture()
    {
        Extractor = ResNet18Features.Create(batchSize: 8);
        Evaluator = new Evaluator(Extractor) { KidSubsets = 20, KidSubsetSize = 16 };
        Sprites = ProceduralSprites.Make(SpriteCount, seed: 11);
        Noise = ProceduralSprites.UniformNoise(NoiseCount, seed: 12);
        SpriteFeatures = Evaluator.Extract(Sprites);
        NoiseFeatures = Evaluator.Extract(Noise);
    }

    public OnnxFeatureExtractor Extractor { get; }
    public Evaluator Evaluator { get; }
    public ImageSet Sprites { get; }
    public ImageSet Noise { get; }
    public FeatureMatrix SpriteFeatures { get; }
    public FeatureMatrix NoiseFeatures { get; }

    public void Dispose() => Extractor.Dispose();
}

/// <summary>Tests that run ResNet-18 share one session and run one at a time, so they do not fight over the cores.</summary>
[CollectionDefinition(Name)]
public sealed class ResNetCollection : ICollectionFixture<ResNetFixture>
{
    public const string Name = "ResNet-18 features";
}
