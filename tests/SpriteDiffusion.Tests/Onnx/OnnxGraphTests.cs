using Microsoft.ML.OnnxRuntime;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Onnx;
using SpriteDiffusion.Onnx.Proto;

namespace SpriteDiffusion.Tests.Onnx;

/// <summary>What the file says about itself: opsets, operators, initializers, inputs and outputs.</summary>
public class OnnxGraphTests
{
    // Every operator here has the same signature in opsets 13 to 17; Gelu (20) and GroupNormalization (18) must not appear.
    private static readonly HashSet<string> AllowedOperators =
    [
        "Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization", "Reshape", "Mul", "Add", "Div", "Erf",
        "Relu", "Gemm", "MaxPool", "AveragePool", "Concat",
    ];

    [Theory]
    [InlineData(13, 7)]
    [InlineData(14, 7)]
    [InlineData(15, 8)]
    [InlineData(16, 8)]
    [InlineData(17, 8)]
    public void EachSupportedOpsetLoadsAndRuns(int opset, long irVersion)
    {
        var model = OnnxTestModels.Random(3, 16, seed: 21);
        byte[] bytes = OnnxExport.ToBytes(model, new OnnxMetadata(), opset);
        var proto = ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(irVersion, proto.IrVersion);
        var import = Assert.Single(proto.OpsetImport);
        Assert.Equal("", import.Domain);
        Assert.Equal(opset, import.Version);

        using var session = new InferenceSession(bytes);
        var (x, t, c) = OnnxTestModels.Inputs(model.Config, 3, seed: 5);
        var actual = OnnxTestModels.Runtime(session, model.Config, x, t, c);
        Assert.True(OnnxTestModels.RelativeMaxDifference(OnnxTestModels.Engine(model, x, t, c), actual) <= 1e-5);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(18)]
    [InlineData(0)]
    public void AnUnsupportedOpsetIsRefusedByName(int opset)
    {
        var model = OnnxTestModels.Random(3, 8, seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExport.ToBytes(model, new OnnxMetadata(), opset));
        Assert.Equal("opset", e.ParamName);
        Assert.Contains($"{opset}", e.Message);
        Assert.Contains("13 to 17", e.Message);
    }

    [Fact]
    public void TheGraphUsesOnlyOldOperatorsAndHoldsEveryTensorOfTheStateDict()
    {
        var model = OnnxTestModels.Random(4, 16, seed: 2, nCFeat: 9);
        var graph = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(model, new OnnxMetadata())).Graph;

        var used = graph.Node.Select(n => n.OpType).ToHashSet();
        Assert.Empty(used.Except(AllowedOperators));
        Assert.All(graph.Node, n => Assert.Equal("", n.Domain));
        Assert.Equal(2 + 2 * 4 + 2 * 4 + 1 + 4, graph.Node.Count(n => n.OpType == "Erf")); // init_conv, down, up blocks; to_vec; four embeddings
        Assert.Equal(2, graph.Node.Count(n => n.OpType == "InstanceNormalization"));

        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        foreach (var e in model.Store.Entries.Where(e => e.Kind != StateKind.Counter))
        {
            Assert.True(initializers.TryGetValue(e.Name, out var tensor), $"no initializer '{e.Name}'");
            Assert.Equal((int)TensorProto.Types.DataType.Float, tensor.DataType);
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span);
            Assert.True(values.SequenceEqual(e.Value.Span), e.Name);
        }
        Assert.DoesNotContain(initializers.Keys, k => k.EndsWith("num_batches_tracked", StringComparison.Ordinal));

        Assert.Equal(["x", "t", "context"], graph.Input.Select(i => i.Name));
        Assert.Equal("eps", Assert.Single(graph.Output).Name);
        Assert.Equal(["N", "4", "16", "16"], Dims(graph.Input[0]));
        Assert.Equal(["N", "1"], Dims(graph.Input[1]));
        Assert.Equal(["N", "9"], Dims(graph.Input[2]));
        Assert.Equal(["N", "4", "16", "16"], Dims(graph.Output[0]));
    }

    [Fact]
    public void RuntimeSeesASymbolicBatch()
    {
        var model = OnnxTestModels.Random(3, 8, seed: 3);
        using var session = new InferenceSession(OnnxExport.ToBytes(model, new OnnxMetadata()));
        Assert.Equal([-1, 3, 16, 16], session.InputMetadata["x"].Dimensions);
        Assert.Equal([-1, 1], session.InputMetadata["t"].Dimensions);
        Assert.Equal([-1, 5], session.InputMetadata["context"].Dimensions);
        Assert.Equal([-1, 3, 16, 16], session.OutputMetadata["eps"].Dimensions);
    }

    private static string[] Dims(ValueInfoProto value) =>
        value.Type.TensorType.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
