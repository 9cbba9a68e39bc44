using SpriteDiffusion.Model;

namespace SpriteDiffusion.Onnx;

/// <summary>
/// The seed U-Net's evaluation-mode forward pass (SPEC section 2, the order of UNet.Forward) as
/// ONNX nodes named after the state-dict modules that compute them.
/// </summary>
internal static class OnnxUNetGraph
{
    /// <summary>Adds the inputs, every node and the output "eps" of <paramref name="model"/> to <paramref name="graph"/>.</summary>
    public static void Build(OnnxGraphBuilder graph, UNet model)
    {
        var c = model.Config;
        int nf = c.NFeat, h = c.Height, q = h / 4;
        var layers = new OnnxLayers(graph, model.Store, c.Padding);
        string x = graph.Input(OnnxGraphBuilder.FloatValue(OnnxExport.ImageInputName, null, c.InChannels, h, h));
        string t = graph.Input(OnnxGraphBuilder.FloatValue(OnnxExport.TimeInputName, null, 1));
        string context = graph.Input(OnnxGraphBuilder.FloatValue(OnnxExport.ContextInputName, null, c.NCFeat));

        string init = ResidualBlock(layers, "init_conv", x, isRes: true, hasShortcut: true);
        string d1 = Down(layers, "down1", init);
        string d2 = Down(layers, "down2", d1);
        string vec = layers.Gelu("to_vec.1", layers.Pool("AveragePool", "to_vec.0", d2, q));

        string c1 = Embed(layers, "contextembed1", context);
        string t1 = Embed(layers, "timeembed1", t);
        string c2 = Embed(layers, "contextembed2", context);
        string t2 = Embed(layers, "timeembed2", t);

        string u1 = layers.Relu("up0.2", layers.GroupNorm("up0.1", layers.ConvTranspose("up0.0", vec), 8, 2 * nf, q, q));
        string u2 = Up(layers, "up1", ScaleShift(graph, "up1.input", u1, c1, t1), d2);
        string u3 = Up(layers, "up2", ScaleShift(graph, "up2.input", u2, c2, t2), d1);

        string cat = graph.Node("Concat", "out.input", [u3, init], OnnxGraphBuilder.Int("axis", 1));
        string hidden = layers.Relu("out.2", layers.GroupNorm("out.1", layers.Conv("out.0", cat), 8, nf, h, h));
        string eps = layers.Conv("out.3", hidden, OnnxExport.NoiseOutputName);
        graph.Graph.Output.Add(OnnxGraphBuilder.FloatValue(eps, null, c.InChannels, h, h));
    }

    /// <summary>[Conv, BatchNorm, GELU] twice; with is_res, (shortcut + h) / 1.414.</summary>
    private static string ResidualBlock(OnnxLayers layers, string name, string x, bool isRes, bool hasShortcut = false)
    {
        string a1 = layers.Gelu(name + ".conv1.2", layers.BatchNorm(name + ".conv1.1", layers.Conv(name + ".conv1.0", x)));
        string a2 = layers.Gelu(name + ".conv2.2", layers.BatchNorm(name + ".conv2.1", layers.Conv(name + ".conv2.0", a1)));
        if (!isRes) return a2;
        string skip = hasShortcut ? layers.Conv(name + ".shortcut", x) : x;
        string sum = layers.Graph.Node("Add", name + "/residual_sum", [skip, a2]);
        return layers.Graph.Node("Div", name, [sum, layers.Graph.Scalar(Layers.TensorOps.ResidualDivisor)]);
    }

    private static string Down(OnnxLayers layers, string name, string x)
    {
        string b0 = ResidualBlock(layers, name + ".model.0", x, isRes: false);
        string b1 = ResidualBlock(layers, name + ".model.1", b0, isRes: false);
        return layers.Pool("MaxPool", name + ".model.2", b1, 2);
    }

    private static string Up(OnnxLayers layers, string name, string x, string skip)
    {
        string cat = layers.Graph.Node("Concat", name + ".cat", [x, skip], OnnxGraphBuilder.Int("axis", 1));
        string z = layers.ConvTranspose(name + ".model.0", cat);
        string b1 = ResidualBlock(layers, name + ".model.1", z, isRes: false);
        return ResidualBlock(layers, name + ".model.2", b1, isRes: false);
    }

    private static string Embed(OnnxLayers layers, string name, string x) =>
        layers.Linear(name + ".model.2", layers.Gelu(name + ".model.1", layers.Linear(name + ".model.0", x)));

    /// <summary>scale * x + shift with the (N, C) embeddings viewed as (N, C, 1, 1).</summary>
    private static string ScaleShift(OnnxGraphBuilder graph, string name, string x, string scale, string shift)
    {
        string perChannel = graph.Shape(0, -1, 1, 1);
        string s = graph.Node("Reshape", scale + "/nchw", [scale, perChannel]);
        string b = graph.Node("Reshape", shift + "/nchw", [shift, perChannel]);
        string scaled = graph.Node("Mul", name + "/scale", [s, x]);
        return graph.Node("Add", name, [scaled, b]);
    }
}
