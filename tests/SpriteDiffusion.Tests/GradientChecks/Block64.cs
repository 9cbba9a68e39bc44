using SpriteDiffusion.Engine;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>
/// The ResidualConvBlock composed from the float64 reference ops: [Conv3x3, BatchNorm, GELU] twice,
/// then with is_res the average (shortcut + h) / 1.414, the shortcut a 1x1 conv when the channel
/// count changes. Parameters are public arrays under the engine's state-dict names (after the
/// block's own prefix), so the test can copy them across and compare gradients by name.
/// </summary>
internal sealed class Block64
{
    /// <summary>Draws every parameter and running statistic, rounded to float32 like all test inputs.</summary>
    public Block64(int inChannels, int outChannels, bool isRes, bool training, Rng rng)
    {
        In = inChannels; Out = outChannels; IsRes = isRes; Training = training;
        Projection = isRes && inChannels != outChannels;
        double bound1 = 1 / Math.Sqrt(inChannels * 9), bound2 = 1 / Math.Sqrt(outChannels * 9), boundS = 1 / Math.Sqrt(inChannels);
        W1 = Uniform(rng, outChannels * inChannels * 9, -bound1, bound1);
        B1 = Uniform(rng, outChannels, -bound1, bound1);
        G1 = Uniform(rng, outChannels, 0.5, 1.5);
        Be1 = Normal(rng, outChannels, 0.5);
        Rm1 = Normal(rng, outChannels, 0.3);
        Rv1 = Uniform(rng, outChannels, 0.2, 1);
        W2 = Uniform(rng, outChannels * outChannels * 9, -bound2, bound2);
        B2 = Uniform(rng, outChannels, -bound2, bound2);
        G2 = Uniform(rng, outChannels, 0.5, 1.5);
        Be2 = Normal(rng, outChannels, 0.5);
        Rm2 = Normal(rng, outChannels, 0.3);
        Rv2 = Uniform(rng, outChannels, 0.2, 1);
        Ws = Projection ? Uniform(rng, outChannels * inChannels, -boundS, boundS) : [];
        Bs = Projection ? Uniform(rng, outChannels, -boundS, boundS) : [];
    }

    public int In { get; }
    public int Out { get; }
    public bool IsRes { get; }
    public bool Projection { get; }
    public bool Training { get; }

    public double[] W1 { get; }
    public double[] B1 { get; }
    public double[] G1 { get; }
    public double[] Be1 { get; }
    public double[] Rm1 { get; }
    public double[] Rv1 { get; }
    public double[] W2 { get; }
    public double[] B2 { get; }
    public double[] G2 { get; }
    public double[] Be2 { get; }
    public double[] Rm2 { get; }
    public double[] Rv2 { get; }
    public double[] Ws { get; }
    public double[] Bs { get; }

    /// <summary>Trainable tensors in the order Backward returns their gradients.</summary>
    public (string Name, double[] Values)[] Parameters =>
    [
        ("conv1.0.weight", W1), ("conv1.0.bias", B1), ("conv1.1.weight", G1), ("conv1.1.bias", Be1),
        ("conv2.0.weight", W2), ("conv2.0.bias", B2), ("conv2.1.weight", G2), ("conv2.1.bias", Be2),
        .. Projection ? new[] { ("shortcut.weight", Ws), ("shortcut.bias", Bs) } : [],
    ];

    public (string Name, double[] Values)[] Buffers =>
    [
        ("conv1.1.running_mean", Rm1), ("conv1.1.running_var", Rv1), ("conv2.1.running_mean", Rm2), ("conv2.1.running_var", Rv2),
    ];

    private sealed record Trace(double[] Z1, double[] U1, double[] A1, double[] Z2, double[] U2, double[] A2, double[] Y);

    public double[] Forward(double[] x, int batch, int h, int w) => Run(x, batch, h, w).Y;

    private Trace Run(double[] x, int batch, int h, int w)
    {
        var z1 = Conv64.Conv2d(x, W1, B1, batch, In, Out, h, w, 3);
        var u1 = Norm(z1, G1, Be1, Rm1, Rv1, batch, h * w);
        var a1 = Pointwise64.Gelu(u1);
        var z2 = Conv64.Conv2d(a1, W2, B2, batch, Out, Out, h, w, 3);
        var u2 = Norm(z2, G2, Be2, Rm2, Rv2, batch, h * w);
        var a2 = Pointwise64.Gelu(u2);
        var y = a2;
        if (IsRes)
        {
            var shortcut = Projection ? Conv64.Conv2d(x, Ws, Bs, batch, In, Out, h, w, 1) : x;
            y = Pointwise64.Residual(shortcut, a2);
        }
        return new Trace(z1, u1, a1, z2, u2, a2, y);
    }

    private double[] Norm(double[] z, double[] gamma, double[] beta, double[] runMean, double[] runVar, int batch, int hw) =>
        Training ? Norm64.BatchNormTrain(z, gamma, beta, batch, Out, hw).Y : Norm64.BatchNormEval(z, gamma, beta, runMean, runVar, batch, Out, hw);

    private (double[] Gz, double[] Ggamma, double[] Gbeta) NormBackward(double[] z, double[] gamma, double[] runMean, double[] runVar,
        double[] gu, int batch, int hw) =>
        Training ? Norm64.BatchNormTrainBackward(z, gamma, gu, batch, Out, hw) : Norm64.BatchNormEvalBackward(z, gamma, runMean, runVar, gu, batch, Out, hw);

    /// <summary>
    /// The input gradient, the parameters' gradients (in Parameters order), and the gradients
    /// reaching the two convolutions' outputs (the bias gradients are their per-channel sums).
    /// </summary>
    public (double[] Gx, double[][] Gparams, double[] Gz1, double[] Gz2) Backward(double[] x, double[] gy, int batch, int h, int w)
    {
        var t = Run(x, batch, h, w);
        var ga2 = IsRes ? Pointwise64.ResidualBackward(gy) : gy;
        var gu2 = Pointwise64.GeluBackward(t.U2, ga2);
        var (gz2, gg2, gbe2) = NormBackward(t.Z2, G2, Rm2, Rv2, gu2, batch, h * w);
        var (ga1, gw2, gb2) = Conv64.Conv2dBackward(t.A1, W2, gz2, batch, Out, Out, h, w, 3);
        var gu1 = Pointwise64.GeluBackward(t.U1, ga1);
        var (gz1, gg1, gbe1) = NormBackward(t.Z1, G1, Rm1, Rv1, gu1, batch, h * w);
        var (gx, gw1, gb1) = Conv64.Conv2dBackward(x, W1, gz1, batch, In, Out, h, w, 3);
        var grads = new List<double[]> { gw1, gb1, gg1, gbe1, gw2, gb2, gg2, gbe2 };
        if (IsRes)
        {
            var gShortcut = ga2;
            if (Projection)
            {
                var (gxs, gws, gbs) = Conv64.Conv2dBackward(x, Ws, gShortcut, batch, In, Out, h, w, 1);
                gShortcut = gxs;
                grads.Add(gws);
                grads.Add(gbs);
            }
            for (int i = 0; i < gx.Length; i++) gx[i] += gShortcut[i];
        }
        return (gx, [.. grads], gz1, gz2);
    }
}
