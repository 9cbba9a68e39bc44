using System.Reflection;
using Google.Protobuf;
using SpriteDiffusion.IO.Pth;
using SpriteDiffusion.Onnx.Proto;

namespace SpriteDiffusion.Onnx;

/// <summary>
/// pytorch-fid's FID Inception (SPEC section 9) as an ONNX model built from its state dict:
/// torchvision's Inception-v3 (1008 classes, no auxiliary head) with pytorch-fid's patches, from
/// the input scaling to the 2048-d average pool. Input <see cref="InputName"/> is (N, 3, 299, 299)
/// RGB in [0, 1], already resized (pytorch-fid resizes bilinearly, align_corners=False); the graph
/// scales it to 2x - 1 itself. Output <see cref="OutputName"/> is (N, 2048).
/// </summary>
public static class FidInceptionOnnx
{
    /// <summary>The image input: (N, 3, 299, 299) float32 RGB in [0, 1].</summary>
    public const string InputName = "images";
    /// <summary>The features: (N, 2048) float32, the final adaptive average pool.</summary>
    public const string OutputName = "pool_features";
    /// <summary>The side of the input images in pixels.</summary>
    public const int InputSize = 299;
    /// <summary>The length of one image's feature vector.</summary>
    public const int FeatureDimension = 2048;
    /// <summary>The opset written: every operator used means the same from 13 on.</summary>
    public const int Opset = 13;

    /// <summary>
    /// The model's bytes from the weights of <paramref name="weights"/>: every tensor a
    /// BasicConv2d of the network needs (conv.weight and bn.weight, bn.bias, bn.running_mean,
    /// bn.running_var); others, such as fc and num_batches_tracked, are not used. Throws
    /// <see cref="InvalidDataException"/> naming the file when a tensor is missing or of another shape.
    /// </summary>
    public static byte[] Build(PthFile weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var graph = new OnnxGraphBuilder();
        FidInceptionGraph.Build(graph, weights);
        graph.Graph.Name = "pytorch_fid_inception";
        var proto = new ModelProto
        {
            IrVersion = OnnxExport.IrVersion(Opset),
            ProducerName = "SpriteDiffusion",
            ProducerVersion = typeof(FidInceptionOnnx).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            DocString = $"pytorch-fid's FID Inception (Inception-v3 pool features) from {Path.GetFileName(weights.Path)}. Input {InputName} (N, 3, {InputSize}, {InputSize}) "
                + $"RGB in [0, 1], resized bilinearly (align_corners=False); output {OutputName} (N, {FeatureDimension}).",
            Graph = graph.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return proto.ToByteArray();
    }
}
