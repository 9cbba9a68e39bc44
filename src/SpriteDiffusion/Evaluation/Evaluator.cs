using System.Diagnostics;

namespace SpriteDiffusion.Evaluation;

/// <summary>FID and KID of one comparison, named for the network whose features they were computed on.</summary>
/// <param name="FidName">FID's label, naming the feature network.</param>
/// <param name="Fid">The Fréchet distance between the two sets' features.</param>
/// <param name="KidName">KID's label, naming the feature network.</param>
/// <param name="Kid">The kernel distance over random subsets.</param>
/// <param name="FeatureNetwork">The feature network's full description.</param>
/// <param name="FeatureDimension">The length of one image's feature vector.</param>
/// <param name="RealCount">The number of real images.</param>
/// <param name="GeneratedCount">The number of generated images.</param>
/// <param name="RealFeatureSeconds">Time spent on the real images' features (0 when they were given).</param>
/// <param name="GeneratedFeatureSeconds">Time spent on the generated images' features (0 when they were given).</param>
/// <param name="MetricSeconds">Time spent on FID and KID.</param>
public sealed record EvaluationResult(
    string FidName,
    double Fid,
    string KidName,
    KidResult Kid,
    string FeatureNetwork,
    int FeatureDimension,
    int RealCount,
    int GeneratedCount,
    double RealFeatureSeconds,
    double GeneratedFeatureSeconds,
    double MetricSeconds)
{
    /// <summary>Precision and recall (k = 3) in the same feature space; null when a set has no more than k images.</summary>
    public PrecisionRecall? PrecisionRecall { get; init; }

    /// <summary>The name of <see cref="PrecisionRecall"/>, e.g. "precision/recall (ResNet-18 features, k = 3)".</summary>
    public string? PrecisionRecallName { get; init; }

    /// <summary>Images through the feature network per second, both sets together.</summary>
    public double FeaturesPerSecond => (RealCount + GeneratedCount) / Math.Max(RealFeatureSeconds + GeneratedFeatureSeconds, 1e-9);
}

/// <summary>Compares two image sets through one feature network: features of each, then FID and KID between them.</summary>
public sealed class Evaluator
{
    private readonly IFeatureExtractor _extractor;

    /// <summary>An evaluator over <paramref name="extractor"/>, which stays the caller's to dispose.</summary>
    public Evaluator(IFeatureExtractor extractor)
    {
        _extractor = extractor ?? throw new ArgumentNullException(nameof(extractor));
    }

    /// <summary>The number of random subsets KID averages over.</summary>
    public int KidSubsets { get; init; } = KernelInceptionDistance.DefaultSubsets;
    /// <summary>Images per set in each KID subset; lowered to the smaller set's size when that is smaller.</summary>
    public int KidSubsetSize { get; init; } = KernelInceptionDistance.DefaultSubsetSize;
    /// <summary>Seeds the choice of KID's subsets, so that a comparison repeats exactly.</summary>
    public int KidSeed { get; init; }

    /// <summary>Images handed to the extractor per call, which is also how often progress is reported.</summary>
    public int ChunkSize { get; init; } = 32;

    /// <summary>The feature network both sets go through.</summary>
    public IFeatureExtractor Extractor => _extractor;

    /// <summary>
    /// Features of every image; <paramref name="progress"/> receives the number of images done so
    /// far. Transparent (RGBA) images are composited onto <see cref="ImageSet.CompositeBackground"/> first.
    /// </summary>
    public FeatureMatrix Extract(ImageSet images, IProgress<int>? progress = null)
    {
        images = images.Opaque();
        int d = _extractor.Dimension;
        var features = new double[(long)images.Count * d];
        for (int start = 0; start < images.Count; start += ChunkSize)
        {
            int n = Math.Min(ChunkSize, images.Count - start);
            _extractor.Extract(images.Chw.AsSpan(start * images.FloatsPerImage, n * images.FloatsPerImage),
                n, images.Channels, images.Size, features.AsSpan(start * d, n * d));
            progress?.Report(start + n);
        }
        return new FeatureMatrix(features, images.Count, d);
    }

    /// <summary>
    /// Features of both sets, then FID and KID between them. Throws <see cref="InvalidDataException"/>
    /// when a set has fewer than 2 images or is not RGB.
    /// </summary>
    public EvaluationResult Compare(ImageSet real, ImageSet generated, IProgress<int>? realProgress = null, IProgress<int>? generatedProgress = null)
    {
        RequireUsable(real, "real");
        RequireUsable(generated, "generated");
        var clock = Stopwatch.StartNew();
        var realFeatures = Extract(real, realProgress);
        double realSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var generatedFeatures = Extract(generated, generatedProgress);
        double generatedSeconds = clock.Elapsed.TotalSeconds;
        return CompareFeatures(realFeatures, generatedFeatures, realSeconds, generatedSeconds);
    }

    /// <summary>FID and KID between features already extracted (e.g. one real set against several generated ones); the seconds go into the result as given.</summary>
    public EvaluationResult CompareFeatures(FeatureMatrix real, FeatureMatrix generated, double realSeconds = 0, double generatedSeconds = 0)
    {
        var clock = Stopwatch.StartNew();
        double fid = FrechetDistance.Compute(real, generated);
        var kid = KernelInceptionDistance.Compute(real, generated, KidSubsets, KidSubsetSize, KidSeed);
        var precisionRecall = HasPrecisionRecall(real.Count, generated.Count) ? ImprovedPrecisionRecall.Compute(real, generated) : null;
        double metricSeconds = clock.Elapsed.TotalSeconds;
        return new EvaluationResult(MetricNames.Fid(_extractor), fid, MetricNames.Kid(_extractor), kid,
            _extractor.Name, _extractor.Dimension, real.Count, generated.Count, realSeconds, generatedSeconds, metricSeconds)
        {
            PrecisionRecall = precisionRecall,
            PrecisionRecallName = MetricNames.PrecisionRecall(_extractor),
        };
    }

    /// <summary>Whether both sets are large enough for precision and recall: each ball's radius is the distance to the k-th other sample.</summary>
    public static bool HasPrecisionRecall(int realCount, int generatedCount) =>
        realCount > ImprovedPrecisionRecall.DefaultK && generatedCount > ImprovedPrecisionRecall.DefaultK;

    private static void RequireUsable(ImageSet images, string which)
    {
        if (images.Count < 2)
            throw new InvalidDataException($"the {which} image set has {images.Count} image(s); FID and KID need at least 2 (thousands for numbers worth comparing).");
        if (images.Channels is not (3 or 4))
            throw new InvalidDataException($"the {which} images have {images.Channels} channels; the feature networks take RGB (or RGBA, composited onto white).");
    }
}
