namespace SpriteDiffusion.Evaluation;

/// <summary>
/// The default feature network: the ImageNet ResNet-18 (CNTK export) from the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, with the package's own preprocessing model in
/// front of it (RGB 0-255 in; BGR minus the ImageNet mean image out). The build copies both files
/// into DnnImageModels/ beside the program.
/// </summary>
public static class ResNet18Features
{
    public const string ShortName = "ResNet-18";
    public const string PackageName = "Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1";
    public const string NetworkFile = "ResNet18Onnx/ResNet18.onnx";
    public const string PreprocessFile = "ResNetPrepOnnx/ResNetPreprocess.onnx";
    public const string InputName = "Input247";
    public const string OutputName = "Pooling395_Output_0";
    public const int InputSize = 224;

    public static string DefaultModelDirectory => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    public static OnnxFeatureExtractor Create(int batchSize = 16) => Create(DefaultModelDirectory, batchSize);

    public static OnnxFeatureExtractor Create(string modelDirectory, int batchSize = 16)
    {
        string network = Path.Combine(modelDirectory, NetworkFile);
        string preprocess = Path.Combine(modelDirectory, PreprocessFile);
        foreach (var file in new[] { network, preprocess })
            if (!File.Exists(file))
                throw new FileNotFoundException($"{file}: the ResNet-18 feature model is missing. The build copies it from the NuGet package {PackageName}; rebuild with 'dotnet build', or use another ONNX feature network.");
        return new OnnxFeatureExtractor(new OnnxFeatureOptions(network)
        {
            InputName = InputName,
            OutputName = OutputName,
            InputSize = InputSize,
            InputRange = FeatureInputRange.Byte,
            PreprocessModelPath = preprocess,
            BatchSize = batchSize,
            ShortName = ShortName,
            Name = $"ResNet-18 (ImageNet, ONNX from {PackageName}, 512-d average pool, {InputSize}x{InputSize} bilinear)",
        });
    }
}
