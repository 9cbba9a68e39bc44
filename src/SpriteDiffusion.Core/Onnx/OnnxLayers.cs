using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Onnx;

/// <summary>
/// The seed U-Net's layers as ONNX nodes, with their weights taken from the parameter store under
/// the state-dict names (which also name the initializers). Only operators that opsets 13 to 17
/// all define with the same meaning are used, so one graph serves every supported opset.
/// </summary>
internal sealed class OnnxLayers(OnnxGraphBuilder graph, ParameterStore store, PaddingMode padding = PaddingMode.Zeros)
{
    // 1 / sqrt(2) would be the cheaper multiply, but dividing by sqrt(2) is the pattern that ONNX
    // Runtime and other importers recognise as GELU and fuse into one kernel.
    private const float Sqrt2 = 1.41421356f;

    public OnnxGraphBuilder Graph => graph;

    /// <summary>
    /// Conv2d with bias, stride 1 and "same" padding (the seed's 3x3 and 1x1 convolutions); its
    /// output value is named <paramref name="output"/>, or after the layer.
    /// </summary>
    public string Conv(string name, string x, string? output = null)
    {
        long k = store[name + ".weight"].Shape[2], pad = k / 2;
        if (padding == PaddingMode.Circular && pad > 0)
        {
            x = Wrap(name + "/wrap", x, pad);
            pad = 0;
        }
        return graph.Node("Conv", name, output ?? name, [x, Param(name + ".weight"), Param(name + ".bias")],
            OnnxGraphBuilder.Ints("kernel_shape", k, k), OnnxGraphBuilder.Ints("pads", pad, pad, pad, pad), OnnxGraphBuilder.Ints("strides", 1, 1));
    }

    /// <summary>
    /// Circular padding by <paramref name="pad"/> pixels as Slice and Concat, width then height (so
    /// the corners wrap both ways): Pad's "wrap" mode only exists from opset 19.
    /// </summary>
    private string Wrap(string name, string x, long pad)
    {
        foreach (var (axis, side) in new[] { (3L, "w"), (2L, "h") })
        {
            var axes = graph.Shape(axis);
            var last = graph.Node("Slice", $"{name}/{side}_last", [x, graph.Shape(-pad), graph.Shape(long.MaxValue), axes]);
            var first = graph.Node("Slice", $"{name}/{side}_first", [x, graph.Shape(0), graph.Shape(pad), axes]);
            x = graph.Node("Concat", $"{name}/{side}", [last, x, first], OnnxGraphBuilder.Int("axis", axis));
        }
        return x;
    }

    /// <summary>ConvTranspose2d with kernel = stride and no padding; PyTorch's (in, out, k, k) weight is ONNX's layout too.</summary>
    public string ConvTranspose(string name, string x)
    {
        long k = store[name + ".weight"].Shape[2];
        return graph.Node("ConvTranspose", name, [x, Param(name + ".weight"), Param(name + ".bias")],
            OnnxGraphBuilder.Ints("kernel_shape", k, k), OnnxGraphBuilder.Ints("strides", k, k));
    }

    /// <summary>
    /// BatchNorm2d in evaluation mode: BatchNormalization over the running statistics. Kept as its
    /// own node rather than folded into the convolution so that every initializer is a tensor of
    /// the checkpoint, unchanged; runtimes fold it themselves (ONNX Runtime does at load).
    /// </summary>
    public string BatchNorm(string name, string x) =>
        graph.Node("BatchNormalization", name,
            [x, Param(name + ".weight"), Param(name + ".bias"), Param(name + ".running_mean"), Param(name + ".running_var")],
            OnnxGraphBuilder.Float("epsilon", BatchNorm2d.Eps));

    /// <summary>
    /// GroupNorm(groups, C) on an (N, C, H, W) tensor: InstanceNormalization normalises each row of
    /// an (N, groups, C/groups * H * W) view (unit scale, zero shift), the result is shaped back,
    /// and the per-channel affine follows as Mul and Add. GroupNormalization itself only exists
    /// from opset 18 (and with per-group affine until 21).
    /// </summary>
    public string GroupNorm(string name, string x, int groups, int channels, int height, int width)
    {
        var grouped = graph.Node("Reshape", name + "/grouped", [x, graph.Shape(0, groups, -1)]);
        var ones = new float[groups];
        Array.Fill(ones, 1f);
        var normed = graph.Node("InstanceNormalization", name + "/normalize",
            [grouped, graph.Initializer(name + "/unit_scale", ones, groups), graph.Initializer(name + "/zero_shift", new float[groups], groups)],
            OnnxGraphBuilder.Float("epsilon", Layers.GroupNorm.Eps));
        var shaped = graph.Node("Reshape", name + "/shaped", [normed, graph.Shape(0, channels, height, width)]);
        var scaled = graph.Node("Mul", name + "/scale", [shaped, PerChannel(name + ".weight", channels)]);
        return graph.Node("Add", name, [scaled, PerChannel(name + ".bias", channels)]);
    }

    /// <summary>Exact GELU, x * 0.5 * (1 + erf(x / sqrt 2)); the Gelu operator only exists from opset 20.</summary>
    public string Gelu(string name, string x)
    {
        var scaled = graph.Node("Div", name + "/div", [x, graph.Scalar(Sqrt2)]);
        var erf = graph.Node("Erf", name + "/erf", [scaled]);
        var shifted = graph.Node("Add", name + "/add", [erf, graph.Scalar(1f)]);
        var product = graph.Node("Mul", name + "/mul", [x, shifted]);
        return graph.Node("Mul", name, [product, graph.Scalar(0.5f)]);
    }

    /// <summary>ReLU.</summary>
    public string Relu(string name, string x) => graph.Node("Relu", name, [x]);

    /// <summary>Linear as Gemm with the (out, in) weight transposed, as PyTorch stores it.</summary>
    public string Linear(string name, string x) =>
        graph.Node("Gemm", name, [x, Param(name + ".weight"), Param(name + ".bias")], OnnxGraphBuilder.Int("transB", 1));

    /// <summary>Max or average pooling over non-overlapping k x k windows.</summary>
    public string Pool(string opType, string name, string x, int k) =>
        graph.Node(opType, name, [x], OnnxGraphBuilder.Ints("kernel_shape", k, k), OnnxGraphBuilder.Ints("strides", k, k));

    /// <summary>The store's tensor under its state-dict name, as an initializer of its own shape.</summary>
    private string Param(string name)
    {
        var e = store[name];
        return graph.Initializer(name, e.Value.Span, e.Shape);
    }

    /// <summary>A (C) parameter stored as (C, 1, 1), so that it broadcasts over an (N, C, H, W) tensor.</summary>
    private string PerChannel(string name, int channels) => graph.Initializer(name, store[name].Value.Span, channels, 1, 1);
}
