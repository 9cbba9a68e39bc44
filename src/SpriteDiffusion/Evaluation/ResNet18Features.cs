namespace SpriteDiffusion.Evaluation;

/// <summary>
/// The default feature network: the ImageNet ResNet-18 (CNTK export) from the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, with the package's own preprocessing model in
/// front of it (RGB 0-255 in; BGR minus the ImageNet mean image out). The build copies both files
/// into DnnImageModels/ beside the program.
/// </summary>
public static class ResNet18Features
{
    /// <summary>The name metrics are labelled with: "FID (ResNet-18 features)".</summary>
    public const string ShortName = "ResNet-18";
    /// <summary>The NuGet package the two model files come from, named in messages.</summary>
    public const string PackageName = "Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1";
    /// <summary>The network, relative to the model folder.</summary>
    public const string NetworkFile = "ResNet18Onnx/ResNet18.onnx";
    /// <summary>The preprocessing model, relative to the model folder.</summary>
    public const string PreprocessFile = "ResNetPrepOnnx/ResNetPreprocess.onnx";
    /// <summary>The network's image input.</summary>
    public const string InputName = "Input247";
    /// <summary>The network's 512-value average-pool output, taken as the features.</summary>
    public const string OutputName = "Pooling395_Output_0";
    /// <summary>The side of the network's input in pixels; sprites are resized bilinearly to it.</summary>
    public const int InputSize = 224;

    /// <summary>DnnImageModels beside the program, where the build copies the models.</summary>
    public static string DefaultModelDirectory => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    /// <summary>The extractor over the models in <see cref="DefaultModelDirectory"/>; see the other overload.</summary>
    public static OnnxFeatureExtractor Create(int batchSize = 16) => Create(DefaultModelDirectory, batchSize);

    /// <summary>
    /// The extractor over the two models in <paramref name="modelDirectory"/>, <paramref name="batchSize"/>
    /// images per call. Throws <see cref="FileNotFoundException"/>, saying to rebuild, when a file is missing.
    /// </summary>
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
