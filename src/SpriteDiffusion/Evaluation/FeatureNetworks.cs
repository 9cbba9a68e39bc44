using SpriteDiffusion.Onnx;

namespace SpriteDiffusion.Evaluation;

/// <summary>Opens the feature network a user named on the command line: "resnet18" (the default), "inception", "inception:PATH" or "onnx:PATH".</summary>
public static class FeatureNetworks
{
    /// <summary>The name of the default network, <see cref="ResNet18Features"/>.</summary>
    public const string ResNet18 = "resnet18";
    /// <summary>The prefix that names an ONNX model file as the feature network.</summary>
    public const string OnnxPrefix = "onnx:";
    /// <summary>pytorch-fid's FID Inception from the weights file in the torch hub cache (<see cref="FidInceptionFeatures.Find"/>).</summary>
    public const string Inception = "inception";
    /// <summary>The prefix that names pytorch-fid's Inception weights file as the feature network.</summary>
    public const string InceptionPrefix = "inception:";

    /// <param name="features">"resnet18", "inception", "inception:PATH" (pytorch-fid's weights file) or "onnx:PATH".</param>
    /// <param name="onnx">Input, output, size and range for an onnx:PATH network (its ModelPath is ignored); unused otherwise.</param>
    /// <param name="batchSize">Images per ONNX Runtime call.</param>
    public static IFeatureExtractor Open(string features, OnnxFeatureOptions? onnx = null, int batchSize = 16)
    {
        string spec = features.Trim();
        if (spec.Equals(ResNet18, StringComparison.OrdinalIgnoreCase) || spec.Equals("resnet-18", StringComparison.OrdinalIgnoreCase))
        {
            if (onnx is not null && (onnx.InputName ?? onnx.OutputName) is not null)
                throw new ArgumentException("input and output names apply to an ONNX feature network (onnx:PATH) only; the ResNet-18 network's names are fixed.", nameof(onnx));
            return ResNet18Features.Create(batchSize);
        }
        if (spec.Equals(Inception, StringComparison.OrdinalIgnoreCase) || spec.StartsWith(InceptionPrefix, StringComparison.OrdinalIgnoreCase))
        {
            if (onnx is not null && (onnx.InputName ?? onnx.OutputName) is not null)
                throw new ArgumentException("input and output names apply to an ONNX feature network (onnx:PATH) only; the FID Inception's are fixed.", nameof(onnx));
            if (onnx?.InputSize is int size && size != FidInceptionOnnx.InputSize)
                throw new ArgumentException($"the FID Inception takes {FidInceptionOnnx.InputSize}x{FidInceptionOnnx.InputSize} images, as pytorch-fid resizes them; an input size of {size} does not apply.", nameof(OnnxFeatureOptions.InputSize));
            string path = spec.Length > Inception.Length ? spec[InceptionPrefix.Length..] : FidInceptionFeatures.FindOrThrow();
            if (path.Length == 0) throw new ArgumentException("pytorch-fid's Inception needs its weights file's path after 'inception:' (or plain 'inception' to search the torch hub cache).", nameof(features));
            return FidInceptionFeatures.Create(path, batchSize);
        }
        if (spec.StartsWith(OnnxPrefix, StringComparison.OrdinalIgnoreCase))
        {
            string path = spec[OnnxPrefix.Length..];
            if (path.Length == 0) throw new ArgumentException("an ONNX feature network needs a file path after 'onnx:'.", nameof(features));
            var options = (onnx ?? new OnnxFeatureOptions(path)) with { ModelPath = path, BatchSize = batchSize };
            return new OnnxFeatureExtractor(options);
        }
        throw new ArgumentException($"unknown feature network '{features}': use '{ResNet18}', '{Inception}' (pytorch-fid's weights from the torch hub cache), 'inception:PATH' (pytorch-fid's {FidInceptionFeatures.FileName}) or 'onnx:PATH' (an ONNX image model).", nameof(features));
    }

    /// <summary>
    /// The input range a user names: "byte" (0..255), "unit" (0..1), "signed" (-1..1) or "imagenet",
    /// or the ranges written out; throws <see cref="ArgumentException"/> for anything else.
    /// </summary>
    public static FeatureInputRange ParseRange(string range) => range.Trim().ToLowerInvariant() switch
    {
        "byte" or "0-255" or "0..255" => FeatureInputRange.Byte,
        "unit" or "0-1" or "0..1" => FeatureInputRange.Unit,
        "signed" or "-1-1" or "-1..1" => FeatureInputRange.Signed,
        "imagenet" => FeatureInputRange.ImageNet,
        _ => throw new ArgumentException($"unknown feature input range '{range}': use byte (0..255), unit (0..1), signed (-1..1) or imagenet (0..1 normalised by ImageNet mean and std).", nameof(range)),
    };
}
