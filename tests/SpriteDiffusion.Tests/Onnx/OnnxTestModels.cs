using Microsoft.ML.OnnxRuntime;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;
using SpriteDiffusion.Onnx;

namespace SpriteDiffusion.Tests.Onnx;

/// <summary>Random U-Nets whose every tensor differs from PyTorch's defaults, and both ways of running them.</summary>
internal static class OnnxTestModels
{
    /// <summary>
    /// A model with random weights and random norm scales, shifts and running statistics: with the
    /// defaults (mean 0, variance 1, scale 1, shift 0) an exporter that dropped or swapped them
    /// would still pass.
    /// </summary>
    public static UNet Random(int inChannels, int nFeat, ulong seed, int nCFeat = 5, Layers.PaddingMode padding = Layers.PaddingMode.Zeros)
    {
        var model = new UNet(new UNetConfig(InChannels: inChannels, NFeat: nFeat, NCFeat: nCFeat) { Padding = padding }, seed);
        var rng = new Rng(seed + 1000);
        foreach (var e in model.Store.Entries)
        {
            if (e.Name.EndsWith(".running_mean", StringComparison.Ordinal)) rng.FillUniform(e.Value.Span, -0.5f, 0.5f);
            else if (e.Name.EndsWith(".running_var", StringComparison.Ordinal)) rng.FillUniform(e.Value.Span, 0.5f, 2f);
            else if (e.Kind == StateKind.Parameter && !float.IsNaN(e.Fill)) rng.FillUniform(e.Value.Span, e.Fill - 0.5f, e.Fill + 0.5f);
            else if (e.Kind == StateKind.Counter) e.Count = 7;
        }
        return model;
    }

    /// <summary>Random inputs for a batch: x ~ N(0, 1), t in (0, 1) (the t/T convention), context uniform in [-1, 1].</summary>
    public static (float[] X, float[] T, float[] Context) Inputs(UNetConfig config, int batch, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[batch * config.InChannels * config.Height * config.Height];
        rng.FillGaussian(x);
        var t = new float[batch];
        rng.FillUniform(t, 0.001f, 0.999f);
        var c = new float[batch * config.NCFeat];
        rng.FillUniform(c, -1f, 1f);
        return (x, t, c);
    }

    /// <summary>Our engine's evaluation-mode forward pass.</summary>
    public static float[] Engine(UNet model, float[] x, float[] t, float[] c)
    {
        var cfg = model.Config;
        int batch = t.Length;
        var y = model.Forward(Tensor.FromArray(x, batch, cfg.InChannels, cfg.Height, cfg.Height), Tensor.FromArray(t, batch, 1),
            Tensor.FromArray(c, batch, cfg.NCFeat), training: false);
        return y.ToArray();
    }

    /// <summary>ONNX Runtime's run of an exported model.</summary>
    public static float[] Runtime(InferenceSession session, UNetConfig cfg, float[] x, float[] t, float[] c)
    {
        int batch = t.Length;
        using var xv = OrtValue.CreateTensorValueFromMemory(x, [batch, cfg.InChannels, cfg.Height, cfg.Height]);
        using var tv = OrtValue.CreateTensorValueFromMemory(t, [batch, 1]);
        using var cv = OrtValue.CreateTensorValueFromMemory(c, [batch, cfg.NCFeat]);
        using var options = new RunOptions();
        using var results = session.Run(options, [OnnxExport.ImageInputName, OnnxExport.TimeInputName, OnnxExport.ContextInputName],
            [xv, tv, cv], [OnnxExport.NoiseOutputName]);
        var shape = results[0].GetTensorTypeAndShape().Shape;
        Assert.Equal(new long[] { batch, cfg.InChannels, cfg.Height, cfg.Height }, shape);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>max |a - b| / max |reference|: the tolerance measure of the export's tests.</summary>
    public static double RelativeMaxDifference(float[] reference, float[] other)
    {
        Assert.Equal(reference.Length, other.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            Assert.True(float.IsFinite(other[i]), $"element {i} is {other[i]}");
            maxDiff = Math.Max(maxDiff, Math.Abs((double)reference[i] - other[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)reference[i]));
        }
        Assert.True(maxRef > 0, "the reference output is all zeros");
        return maxDiff / maxRef;
    }
}
