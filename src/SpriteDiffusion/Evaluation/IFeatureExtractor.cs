namespace SpriteDiffusion.Evaluation;

/// <summary>
/// A pretrained image network whose pooled activations stand in for "what an image looks like".
/// FID and KID are only as meaningful as the network named in <see cref="ShortName"/>, so every
/// report carries that name.
/// </summary>
public interface IFeatureExtractor : IDisposable
{
    /// <summary>The full description for reports, e.g. "ResNet-18 (ImageNet, ONNX, 512-d pool)".</summary>
    string Name { get; }

    /// <summary>The name metrics are labelled with: "FID (ResNet-18 features)".</summary>
    string ShortName { get; }

    /// <summary>Length of one image's feature vector.</summary>
    int Dimension { get; }

    /// <summary>
    /// Features of <paramref name="count"/> images given as float CHW in [-1, 1]
    /// (count x channels x size x size), written row by row into <paramref name="features"/>
    /// (count x <see cref="Dimension"/>).
    /// </summary>
    void Extract(ReadOnlySpan<float> imagesChw, int count, int channels, int size, Span<double> features);
}

/// <summary>How metrics are labelled, so that every number says which network's features it is on.</summary>
public static class MetricNames
{
    /// <summary>"precision/recall (ResNet-18 features, k = 3)".</summary>
    public static string PrecisionRecall(IFeatureExtractor extractor, int k = ImprovedPrecisionRecall.DefaultK) => PrecisionRecall(extractor.ShortName, k);

    /// <summary>As the other overload, from the network's short name.</summary>
    public static string PrecisionRecall(string featureShortName, int k = ImprovedPrecisionRecall.DefaultK) =>
        FormattableString.Invariant($"precision/recall ({featureShortName} features, k = {k})");

    /// <summary>"FID (ResNet-18 features) per class".</summary>
    public static string FidPerClass(string featureShortName) => Fid(featureShortName) + " per class";

    /// <summary>FID's label for features of <paramref name="extractor"/>.</summary>
    public static string Fid(IFeatureExtractor extractor) => Fid(extractor.ShortName);
    /// <summary>KID's label for features of <paramref name="extractor"/>.</summary>
    public static string Kid(IFeatureExtractor extractor) => Kid(extractor.ShortName);
    /// <summary>
    /// "FID (<paramref name="featureShortName"/> features)"; on pytorch-fid's own network, and only
    /// there, "FID (pytorch-fid Inception)": the number the seed and papers report.
    /// </summary>
    public static string Fid(string featureShortName) =>
        featureShortName == FidInceptionFeatures.ShortName ? $"FID ({featureShortName})" : $"FID ({featureShortName} features)";
    /// <summary>"KID (<paramref name="featureShortName"/> features)".</summary>
    public static string Kid(string featureShortName) => $"KID ({featureShortName} features)";
}
