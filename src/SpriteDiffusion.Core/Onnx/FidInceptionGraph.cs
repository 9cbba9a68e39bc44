using SpriteDiffusion.IO.Pth;

namespace SpriteDiffusion.Onnx;

/// <summary>
/// The FID Inception's nodes (SPEC section 9): torchvision's Inception3 layer order, with
/// pytorch-fid's pool branches. Values are named after the modules of the state dict that compute
/// them, and the state dict's tensors are the initializers, unchanged (ONNX Runtime folds each
/// BatchNorm into its convolution at load).
/// </summary>
internal sealed class FidInceptionGraph
{
    // torchvision's BasicConv2d: BatchNorm2d(out_channels, eps=0.001).
    private const float BatchNormEps = 0.001f;

    private readonly OnnxGraphBuilder _graph;
    private readonly PthFile _weights;

    private FidInceptionGraph(OnnxGraphBuilder graph, PthFile weights)
    {
        _graph = graph;
        _weights = weights;
    }

    /// <summary>Adds the input, every node and the output of the network to <paramref name="graph"/>.</summary>
    public static void Build(OnnxGraphBuilder graph, PthFile weights)
    {
        var g = new FidInceptionGraph(graph, weights);
        string x = graph.Input(OnnxGraphBuilder.FloatValue(FidInceptionOnnx.InputName, null, 3, FidInceptionOnnx.InputSize, FidInceptionOnnx.InputSize));
        // pytorch-fid's normalize_input, 2x - 1, after the resize (both linear, but this order is its order).
        x = graph.Node("Sub", "normalize_input", [graph.Node("Mul", "normalize_input/double", [x, graph.Scalar(2f)]), graph.Scalar(1f)]);

        x = g.Conv("Conv2d_1a_3x3", x, 3, 32, 3, 3, stride: 2);
        x = g.Conv("Conv2d_2a_3x3", x, 32, 32, 3, 3);
        x = g.Conv("Conv2d_2b_3x3", x, 32, 64, 3, 3, padH: 1, padW: 1);
        x = g.Pool("MaxPool", "maxpool1", x, stride: 2, pad: 0);
        x = g.Conv("Conv2d_3b_1x1", x, 64, 80, 1, 1);
        x = g.Conv("Conv2d_4a_3x3", x, 80, 192, 3, 3);
        x = g.Pool("MaxPool", "maxpool2", x, stride: 2, pad: 0);
        x = g.InceptionA("Mixed_5b", x, 192, 32);
        x = g.InceptionA("Mixed_5c", x, 256, 64);
        x = g.InceptionA("Mixed_5d", x, 288, 64);
        x = g.InceptionB("Mixed_6a", x, 288);
        x = g.InceptionC("Mixed_6b", x, 128);
        x = g.InceptionC("Mixed_6c", x, 160);
        x = g.InceptionC("Mixed_6d", x, 160);
        x = g.InceptionC("Mixed_6e", x, 192);
        x = g.InceptionD("Mixed_7a", x);
        x = g.InceptionE("Mixed_7b", x, 1280, maxPool: false);
        x = g.InceptionE("Mixed_7c", x, 2048, maxPool: true);
        x = graph.Node("GlobalAveragePool", "avgpool", [x]);
        string features = graph.Node("Flatten", "flatten", FidInceptionOnnx.OutputName, [x], OnnxGraphBuilder.Int("axis", 1));
        graph.Graph.Output.Add(OnnxGraphBuilder.FloatValue(features, null, FidInceptionOnnx.FeatureDimension));
    }

    /// <summary>Mixed_5b/5c/5d: 1x1; 1x1 then 5x5; 1x1 then two 3x3; the patched average pool then 1x1.</summary>
    private string InceptionA(string name, string x, int channels, int poolFeatures)
    {
        string b1 = Conv($"{name}.branch1x1", x, channels, 64, 1, 1);
        string b5 = Conv($"{name}.branch5x5_2", Conv($"{name}.branch5x5_1", x, channels, 48, 1, 1), 48, 64, 5, 5, padH: 2, padW: 2);
        string b3 = Conv($"{name}.branch3x3dbl_1", x, channels, 64, 1, 1);
        b3 = Conv($"{name}.branch3x3dbl_2", b3, 64, 96, 3, 3, padH: 1, padW: 1);
        b3 = Conv($"{name}.branch3x3dbl_3", b3, 96, 96, 3, 3, padH: 1, padW: 1);
        string pool = Conv($"{name}.branch_pool", AveragePool($"{name}.pool", x), channels, poolFeatures, 1, 1);
        return Concat(name, b1, b5, b3, pool);
    }

    /// <summary>Mixed_6a: 3x3 stride 2; 1x1, 3x3, 3x3 stride 2; max pool 3 stride 2.</summary>
    private string InceptionB(string name, string x, int channels)
    {
        string b3 = Conv($"{name}.branch3x3", x, channels, 384, 3, 3, stride: 2);
        string d = Conv($"{name}.branch3x3dbl_1", x, channels, 64, 1, 1);
        d = Conv($"{name}.branch3x3dbl_2", d, 64, 96, 3, 3, padH: 1, padW: 1);
        d = Conv($"{name}.branch3x3dbl_3", d, 96, 96, 3, 3, stride: 2);
        return Concat(name, b3, d, Pool("MaxPool", $"{name}.pool", x, stride: 2, pad: 0));
    }

    /// <summary>Mixed_6b-6e (768 channels in): 1x1; 1x7, 7x1; 7x1, 1x7 twice; the patched average pool then 1x1.</summary>
    private string InceptionC(string name, string x, int c7)
    {
        const int channels = 768;
        string b1 = Conv($"{name}.branch1x1", x, channels, 192, 1, 1);
        string b7 = Conv($"{name}.branch7x7_1", x, channels, c7, 1, 1);
        b7 = Conv($"{name}.branch7x7_2", b7, c7, c7, 1, 7, padW: 3);
        b7 = Conv($"{name}.branch7x7_3", b7, c7, 192, 7, 1, padH: 3);
        string d = Conv($"{name}.branch7x7dbl_1", x, channels, c7, 1, 1);
        d = Conv($"{name}.branch7x7dbl_2", d, c7, c7, 7, 1, padH: 3);
        d = Conv($"{name}.branch7x7dbl_3", d, c7, c7, 1, 7, padW: 3);
        d = Conv($"{name}.branch7x7dbl_4", d, c7, c7, 7, 1, padH: 3);
        d = Conv($"{name}.branch7x7dbl_5", d, c7, 192, 1, 7, padW: 3);
        string pool = Conv($"{name}.branch_pool", AveragePool($"{name}.pool", x), channels, 192, 1, 1);
        return Concat(name, b1, b7, d, pool);
    }

    /// <summary>Mixed_7a: 1x1 then 3x3 stride 2; 1x1, 1x7, 7x1, 3x3 stride 2; max pool 3 stride 2.</summary>
    private string InceptionD(string name, string x)
    {
        const int channels = 768;
        string b3 = Conv($"{name}.branch3x3_2", Conv($"{name}.branch3x3_1", x, channels, 192, 1, 1), 192, 320, 3, 3, stride: 2);
        string b7 = Conv($"{name}.branch7x7x3_1", x, channels, 192, 1, 1);
        b7 = Conv($"{name}.branch7x7x3_2", b7, 192, 192, 1, 7, padW: 3);
        b7 = Conv($"{name}.branch7x7x3_3", b7, 192, 192, 7, 1, padH: 3);
        b7 = Conv($"{name}.branch7x7x3_4", b7, 192, 192, 3, 3, stride: 2);
        return Concat(name, b3, b7, Pool("MaxPool", $"{name}.pool", x, stride: 2, pad: 0));
    }

    /// <summary>
    /// Mixed_7b and 7c: 1x1; 1x1 then 1x3 and 3x1 side by side; 1x1, 3x3, then 1x3 and 3x1 side by
    /// side; a pool then 1x1. The pool is pytorch-fid's: the patched average pool in 7b, a 3x3 max
    /// pool (stride 1, padding 1) in 7c.
    /// </summary>
    private string InceptionE(string name, string x, int channels, bool maxPool)
    {
        string b1 = Conv($"{name}.branch1x1", x, channels, 320, 1, 1);
        string s = Conv($"{name}.branch3x3_1", x, channels, 384, 1, 1);
        string b3 = Concat($"{name}.branch3x3",
            Conv($"{name}.branch3x3_2a", s, 384, 384, 1, 3, padW: 1),
            Conv($"{name}.branch3x3_2b", s, 384, 384, 3, 1, padH: 1));
        string d = Conv($"{name}.branch3x3dbl_1", x, channels, 448, 1, 1);
        d = Conv($"{name}.branch3x3dbl_2", d, 448, 384, 3, 3, padH: 1, padW: 1);
        string bd = Concat($"{name}.branch3x3dbl",
            Conv($"{name}.branch3x3dbl_3a", d, 384, 384, 1, 3, padW: 1),
            Conv($"{name}.branch3x3dbl_3b", d, 384, 384, 3, 1, padH: 1));
        string pooled = maxPool ? Pool("MaxPool", $"{name}.pool", x, stride: 1, pad: 1) : AveragePool($"{name}.pool", x);
        string pool = Conv($"{name}.branch_pool", pooled, channels, 192, 1, 1);
        return Concat(name, b1, b3, bd, pool);
    }

    /// <summary>BasicConv2d: a bias-free convolution, BatchNorm on the running statistics (eps 0.001), ReLU.</summary>
    private string Conv(string name, string x, int inChannels, int outChannels, int kh, int kw, int stride = 1, int padH = 0, int padW = 0)
    {
        string conv = _graph.Node("Conv", $"{name}.conv", [x, Param($"{name}.conv.weight", outChannels, inChannels, kh, kw)],
            OnnxGraphBuilder.Ints("kernel_shape", kh, kw), OnnxGraphBuilder.Ints("pads", padH, padW, padH, padW), OnnxGraphBuilder.Ints("strides", stride, stride));
        string bn = _graph.Node("BatchNormalization", $"{name}.bn",
            [conv, Param($"{name}.bn.weight", outChannels), Param($"{name}.bn.bias", outChannels),
             Param($"{name}.bn.running_mean", outChannels), Param($"{name}.bn.running_var", outChannels)],
            OnnxGraphBuilder.Float("epsilon", BatchNormEps));
        return _graph.Node("Relu", name, [bn]);
    }

    /// <summary>pytorch-fid's patch: 3x3 average, stride 1, padding 1, the padding's zeros not counted (count_include_pad=False).</summary>
    private string AveragePool(string name, string x) =>
        _graph.Node("AveragePool", name, [x], OnnxGraphBuilder.Ints("kernel_shape", 3, 3), OnnxGraphBuilder.Ints("strides", 1, 1),
            OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1), OnnxGraphBuilder.Int("count_include_pad", 0));

    /// <summary>A 3x3 pool; floor rounding of the output size, as PyTorch's default ceil_mode=False.</summary>
    private string Pool(string opType, string name, string x, int stride, int pad) =>
        _graph.Node(opType, name, [x], OnnxGraphBuilder.Ints("kernel_shape", 3, 3), OnnxGraphBuilder.Ints("strides", stride, stride),
            OnnxGraphBuilder.Ints("pads", pad, pad, pad, pad));

    private string Concat(string name, params string[] inputs) => _graph.Node("Concat", name, inputs, OnnxGraphBuilder.Int("axis", 1));

    /// <summary>The state dict's tensor as an initializer under its own name, after checking its shape.</summary>
    private string Param(string name, params int[] shape)
    {
        if (!_weights.Tensors.TryGetValue(name, out var tensor))
            throw new InvalidDataException($"{_weights.Path}: has no tensor '{name}', so it is not a state dict of pytorch-fid's Inception "
                + "(pt_inception-2015-12-05-6726825d.pth, torchvision's Inception3 with 1008 classes). Give that file.");
        if (tensor.DType != PthDType.Float32 || !tensor.Shape.SequenceEqual(shape))
            throw new InvalidDataException($"{_weights.Path}: tensor '{name}' is {tensor.StorageDType} [{string.Join(", ", tensor.Shape)}] where pytorch-fid's Inception has "
                + $"float32 [{string.Join(", ", shape)}]; the file holds another network. Give pt_inception-2015-12-05-6726825d.pth.");
        return _graph.Initializer(name, tensor.Float32Data.Span, shape);
    }
}
