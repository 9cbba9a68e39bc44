using SpriteDiffusion.Data;
using Microsoft.ML.OnnxRuntime;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Evaluation;

/// <summary>What numbers a feature network expects for its RGB input pixels.</summary>
public enum FeatureInputRange
{
    /// <summary>0 to 255 (the package's ResNet-18 preprocessing model).</summary>
    Byte,
    /// <summary>0 to 1 (pytorch-fid's Inception with its own normalisation inside).</summary>
    Unit,
    /// <summary>-1 to 1.</summary>
    Signed,
    /// <summary>0 to 1, then ImageNet's per-channel mean and standard deviation (torchvision exports).</summary>
    ImageNet,
}

/// <summary>How to run one ONNX feature network; null names and size are read from the model when it has only one choice.</summary>
/// <param name="ModelPath">The feature network's .onnx file (with <see cref="ModelBytes"/>: the file it was built from, named in messages).</param>
public sealed record OnnxFeatureOptions(string ModelPath)
{
    /// <summary>The model itself when it was built in memory (the FID Inception from its weights); null reads <see cref="ModelPath"/>.</summary>
    public byte[]? ModelBytes { get; init; }
    /// <summary>The network input to feed; null when the model has only one.</summary>
    public string? InputName { get; init; }
    /// <summary>The network output to read as features; null when the model has only one.</summary>
    public string? OutputName { get; init; }
    /// <summary>The side of the square input in pixels; null reads it from the model, which must then fix it.</summary>
    public int? InputSize { get; init; }
    /// <summary>What numbers the network (or the preprocessing model) expects for its pixels.</summary>
    public FeatureInputRange InputRange { get; init; } = FeatureInputRange.Unit;
    /// <summary>An ONNX model run before the network, from pixels in <see cref="InputRange"/> to the network's input, with one input and one output.</summary>
    public string? PreprocessModelPath { get; init; }
    /// <summary>Images per ONNX Runtime call; 1 runs the models exactly as exported.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>The network's name in metric labels; null: the model's file name.</summary>
    public string? ShortName { get; init; }
    /// <summary>The network's full description in reports; null: made from the file, output, size and range.</summary>
    public string? Name { get; init; }
}

/// <summary>
/// Features from an ONNX image network under ONNX Runtime: images are mapped to 8-bit pixels
/// (as they would be saved), upsampled bilinearly to the network's input size, optionally passed
/// through a preprocessing model, and run in batches on all cores.
/// </summary>
public sealed class OnnxFeatureExtractor : IFeatureExtractor
{
    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    private readonly InferenceSession? _preprocess;
    private readonly InferenceSession _network;
    private readonly string[] _preprocessInput = [], _preprocessOutput = [];
    private readonly string[] _networkInput, _networkOutput;
    private readonly FeatureInputRange _range;
    private readonly int _batchSize;
    private readonly int _inputSize;
    private readonly float[] _input;
    private readonly float[] _preprocessed;
    private readonly float[] _output;
    private readonly RunOptions _runOptions = new();
    private BatchValues? _fullBatch;
    private BilinearResize? _resize;
    private float[] _smallPlane = [];
    private bool _disposed;

    /// <summary>
    /// Opens the model (and the preprocessing model) in ONNX Runtime and allocates the batch buffers.
    /// Throws <see cref="InvalidDataException"/> naming the file when ONNX Runtime cannot run it or
    /// its input or output cannot be settled.
    /// </summary>
    public OnnxFeatureExtractor(OnnxFeatureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(OnnxFeatureOptions.BatchSize), $"the feature batch size must be at least 1 (got {options.BatchSize}).");
        _range = options.InputRange;
        _batchSize = options.BatchSize;
        try
        {
            if (options.PreprocessModelPath is not null)
            {
                (_preprocess, string preprocessIn, string preprocessOut) = OpenSession(options.PreprocessModelPath, null, null, _batchSize);
                _preprocessInput = [preprocessIn];
                _preprocessOutput = [preprocessOut];
            }
            (_network, string inputName, string outputName) =
                OpenSession(options.ModelPath, options.InputName, options.OutputName, _batchSize, options.ModelBytes);
            _networkInput = [inputName];
            _networkOutput = [outputName];
            var inputMeta = _network.InputMetadata[_networkInput[0]];
            _inputSize = ResolveInputSize(inputMeta.Dimensions, options.InputSize, options.ModelPath, _networkInput[0]);
            Dimension = ResolveDimension(_network.OutputMetadata[_networkOutput[0]].Dimensions, options.ModelPath);
        }
        catch (OnnxRuntimeException e)
        {
            DisposeSessions();
            throw new InvalidDataException($"{options.ModelPath}: ONNX Runtime cannot run this model ({e.Message}). Check the model file and the feature input and output names.", e);
        }
        catch
        {
            DisposeSessions();
            throw;
        }

        int imageFloats = 3 * _inputSize * _inputSize;
        _input = new float[_batchSize * imageFloats];
        _preprocessed = _preprocess is null ? [] : new float[_batchSize * imageFloats];
        _output = new float[_batchSize * Dimension];
        ShortName = options.ShortName ?? Path.GetFileName(options.ModelPath);
        Name = options.Name ?? $"{Path.GetFileName(options.ModelPath)} ({_networkOutput[0]}, {Dimension}-d, input {_inputSize}x{_inputSize} {_range}, ONNX Runtime)";
    }

    /// <summary>The full description for reports.</summary>
    public string Name { get; }
    /// <summary>The name metrics are labelled with.</summary>
    public string ShortName { get; }
    /// <summary>The length of one image's feature vector: the output's size per image.</summary>
    public int Dimension { get; }
    /// <summary>The side of the square network input images are resized to.</summary>
    public int InputSize => _inputSize;
    /// <summary>Images per ONNX Runtime call.</summary>
    public int BatchSize => _batchSize;

    /// <inheritdoc/>
    /// <remarks>Not thread-safe: the extractor reuses its buffers. Throws <see cref="ArgumentException"/> for other than 3 channels or buffers too small.</remarks>
    public void Extract(ReadOnlySpan<float> imagesChw, int count, int channels, int size, Span<double> features)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (channels != 3) throw new ArgumentException($"feature networks take RGB images; got {channels} channels", nameof(channels));
        if (imagesChw.Length < count * 3 * size * size) throw new ArgumentException("fewer floats than images", nameof(imagesChw));
        if (features.Length < count * Dimension) throw new ArgumentException("feature buffer too small", nameof(features));
        if (_resize is null || _resize.SourceSize != size)
        {
            _resize = new BilinearResize(size, _inputSize);
            _smallPlane = new float[size * size];
        }
        int imageFloats = 3 * size * size;
        for (int start = 0; start < count; start += _batchSize)
        {
            int n = Math.Min(_batchSize, count - start);
            for (int i = 0; i < n; i++)
                FillInput(imagesChw.Slice((start + i) * imageFloats, imageFloats), size, i);
            RunBatch(n);
            var output = _output.AsSpan(0, n * Dimension);
            var destination = features.Slice(start * Dimension, n * Dimension);
            for (int k = 0; k < output.Length; k++)
                destination[k] = output[k];
        }
    }

    private void FillInput(ReadOnlySpan<float> image, int size, int slot)
    {
        int plane = size * size, target = _inputSize * _inputSize;
        for (int c = 0; c < 3; c++)
        {
            var source = image.Slice(c * plane, plane);
            for (int p = 0; p < plane; p++)
                _smallPlane[p] = MapPixel(SpritePixels.ToByte(source[p]), c);
            _resize!.Resize(_smallPlane, _input.AsSpan((slot * 3 + c) * target, target));
        }
    }

    // Mapping is linear, so doing it before the (linear) upsampling gives the same result for 196x less work.
    private float MapPixel(byte value, int channel) => _range switch
    {
        FeatureInputRange.Byte => value,
        FeatureInputRange.Unit => value / 255f,
        FeatureInputRange.Signed => value / 127.5f - 1f,
        FeatureInputRange.ImageNet => (value / 255f - ImageNetMean[channel]) / ImageNetStd[channel],
        _ => throw new InvalidOperationException(),
    };

    private void RunBatch(int n)
    {
        if (n == _batchSize)
        {
            _fullBatch ??= new BatchValues(this, n);
            _fullBatch.Run(this);
            return;
        }
        using var partial = new BatchValues(this, n);
        partial.Run(this);
    }

    /// <summary>ONNX Runtime views over the reusable buffers for a batch of one size.</summary>
    private sealed class BatchValues : IDisposable
    {
        private readonly OrtValue[] _input, _preprocessed, _output;

        public BatchValues(OnnxFeatureExtractor owner, int n)
        {
            int imageFloats = 3 * owner._inputSize * owner._inputSize;
            long[] shape = [n, 3, owner._inputSize, owner._inputSize];
            _input = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, owner._input.AsMemory(0, n * imageFloats), shape)];
            _preprocessed = owner._preprocess is null ? [] :
                [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, owner._preprocessed.AsMemory(0, n * imageFloats), shape)];
            var dims = owner._network.OutputMetadata[owner._networkOutput[0]].Dimensions;
            var outputShape = new long[dims.Length];
            outputShape[0] = n;
            for (int i = 1; i < dims.Length; i++) outputShape[i] = dims[i];
            _output = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, owner._output.AsMemory(0, n * owner.Dimension), outputShape)];
        }

        public void Run(OnnxFeatureExtractor owner)
        {
            if (owner._preprocess is null)
            {
                owner._network.Run(owner._runOptions, owner._networkInput, _input, owner._networkOutput, _output);
                return;
            }
            owner._preprocess.Run(owner._runOptions, owner._preprocessInput, _input, owner._preprocessOutput, _preprocessed);
            owner._network.Run(owner._runOptions, owner._networkInput, _preprocessed, owner._networkOutput, _output);
        }

        public void Dispose()
        {
            foreach (var value in _input.Concat(_preprocessed).Concat(_output)) value.Dispose();
        }
    }

    /// <summary>
    /// A session whose one input and one output are <paramref name="inputName"/> and
    /// <paramref name="outputName"/>, or the model's only ones where those are null. The batch
    /// dimension can only be opened up once the names are known, so a model with an unnamed end
    /// is first loaded as exported just to read its names.
    /// </summary>
    private static (InferenceSession Session, string Input, string Output) OpenSession(
        string path, string? inputName, string? outputName, int batchSize, byte[]? model = null)
    {
        if (inputName is null || outputName is null)
        {
            using var probe = LoadSession(path, null, null, 1, model);
            inputName = ChooseName(probe.InputMetadata.Keys, inputName, path, "input");
            outputName = ChooseName(probe.OutputMetadata.Keys, outputName, path, "output");
        }
        var session = LoadSession(path, inputName, outputName, batchSize, model);
        try
        {
            ChooseName(session.InputMetadata.Keys, inputName, path, "input");
            ChooseName(session.OutputMetadata.Keys, outputName, path, "output");
            return (session, inputName, outputName);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static InferenceSession LoadSession(string path, string? inputName, string? outputName, int batchSize, byte[]? model)
    {
        byte[] bytes = model ?? ReadModel(path);
        // A model built in memory is built with a symbolic batch dimension; rewriting it would only copy it.
        if (model is null && batchSize > 1 && inputName is not null && outputName is not null)
        {
            try { bytes = OnnxBatchDimension.MakeBatchDynamic(bytes, new HashSet<string> { inputName }, new HashSet<string> { outputName }); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not an ONNX model ({e.Message}).", e); }
        }
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Environment.ProcessorCount,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        // Idle ONNX Runtime threads otherwise spin between operators, taking cores from whatever runs
        // beside (a sampler, other tests); measured here it costs no throughput to let them sleep.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try { return new InferenceSession(bytes, options); }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: ONNX Runtime cannot load this file as a model ({e.Message}).", e);
        }
    }

    private static byte[] ReadModel(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: feature model file not found. Give an existing ONNX file, or rebuild so the bundled ResNet-18 is copied beside the program.");
        try { return InputFile.ReadAllBytes(path, Array.MaxLength); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the feature model ({e.Message}).", e);
        }
    }

    private static string ChooseName(IEnumerable<string> names, string? wanted, string path, string what)
    {
        var list = names.ToList();
        if (wanted is not null)
        {
            if (list.Contains(wanted)) return wanted;
            throw new ArgumentException($"{path}: the model has no {what} named '{wanted}'; its {what}s are: {string.Join(", ", list)}.", what == "input" ? nameof(OnnxFeatureOptions.InputName) : nameof(OnnxFeatureOptions.OutputName));
        }
        if (list.Count == 1) return list[0];
        throw new ArgumentException($"{path}: the model has {list.Count} {what}s ({string.Join(", ", list)}), so which to use is ambiguous; name one.",
            what == "input" ? nameof(OnnxFeatureOptions.InputName) : nameof(OnnxFeatureOptions.OutputName));
    }

    private static int ResolveInputSize(int[] dims, int? requested, string path, string inputName)
    {
        if (dims.Length != 4)
            throw new InvalidDataException($"{path}: input '{inputName}' has {dims.Length} dimensions; a feature network must take N x 3 x H x W images.");
        if (dims[1] > 0 && dims[1] != 3)
            throw new InvalidDataException($"{path}: input '{inputName}' takes {dims[1]} channels; only RGB (3) networks are supported.");
        int h = dims[2], w = dims[3];
        if (h > 0 && w > 0 && h != w)
            throw new InvalidDataException($"{path}: input '{inputName}' is {h}x{w}; only square inputs are supported.");
        int fixedSize = Math.Max(h, w);
        if (requested is int size)
        {
            if (size < 1) throw new ArgumentOutOfRangeException(nameof(OnnxFeatureOptions.InputSize), $"the feature input size must be positive (got {size}).");
            if (fixedSize > 0 && size != fixedSize)
                throw new ArgumentException($"{path}: input '{inputName}' is fixed at {fixedSize}x{fixedSize}, but an input size of {size} was asked for.", nameof(OnnxFeatureOptions.InputSize));
            return size;
        }
        if (fixedSize > 0) return fixedSize;
        throw new ArgumentException($"{path}: input '{inputName}' has no fixed height and width; give an input size (299 for Inception-v3).", nameof(OnnxFeatureOptions.InputSize));
    }

    private static int ResolveDimension(int[] dims, string path)
    {
        long dimension = 1;
        for (int i = 1; i < dims.Length; i++)
        {
            if (dims[i] <= 0)
                throw new InvalidDataException($"{path}: the feature output's shape [{string.Join(", ", dims)}] is not fixed apart from the batch; pick an output with a fixed size.");
            dimension *= dims[i];
        }
        if (dimension > 1 << 16)
            throw new InvalidDataException($"{path}: the output has {dimension} values per image, too many for a covariance; pick a pooled feature output.");
        return (int)dimension;
    }

    private void DisposeSessions()
    {
        _preprocess?.Dispose();
        _network?.Dispose();
    }

    /// <summary>Releases the ONNX Runtime sessions; the extractor cannot be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _fullBatch?.Dispose();
        DisposeSessions();
        _runOptions.Dispose();
    }
}
