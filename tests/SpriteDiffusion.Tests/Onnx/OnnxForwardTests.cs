using Microsoft.ML.OnnxRuntime;
using SpriteDiffusion.Onnx;
using Xunit.Abstractions;

namespace SpriteDiffusion.Tests.Onnx;

/// <summary>ONNX Runtime running the exported file computes what our engine's evaluation forward pass computes.</summary>
public class OnnxForwardTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(3, 16)]
    [InlineData(3, 32)]
    [InlineData(4, 16)]
    [InlineData(4, 32)]
    public void RuntimeMatchesTheEngineAtEveryBatchSize(int channels, int nFeat)
    {
        var model = OnnxTestModels.Random(channels, nFeat, seed: (ulong)(channels * 100 + nFeat));
        Assert.Equal(channels, model.Store["out.3.weight"].Shape[0]);
        byte[] onnx = OnnxExport.ToBytes(model, new OnnxMetadata());
        using var session = new InferenceSession(onnx);
        foreach (int batch in new[] { 1, 16, 37 })
        {
            var (x, t, c) = OnnxTestModels.Inputs(model.Config, batch, seed: (ulong)batch);
            var reference = OnnxTestModels.Engine(model, x, t, c);
            var actual = OnnxTestModels.Runtime(session, model.Config, x, t, c);
            double relative = OnnxTestModels.RelativeMaxDifference(reference, actual);
            output.WriteLine($"channels {channels}, n_feat {nFeat}, batch {batch}: max |diff| / max |ref| = {relative:E2}");
            Assert.True(relative <= Tolerance, $"batch {batch}: {relative:E2} > {Tolerance:E0}");
        }
    }

    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    public void ACircularModelExportsWithItsPaddingInEveryOpset(int opset)
    {
        // Pad's "wrap" mode needs opset 19: the export slices and concatenates instead.
        var model = OnnxTestModels.Random(3, 16, seed: 77, padding: Layers.PaddingMode.Circular);
        byte[] onnx = OnnxExport.ToBytes(model, new OnnxMetadata(), opset);
        using var session = new InferenceSession(onnx);
        Assert.Equal("circular", session.ModelMetadata.CustomMetadataMap["padding"]);
        var (x, t, c) = OnnxTestModels.Inputs(model.Config, 3, seed: 78);
        var reference = OnnxTestModels.Engine(model, x, t, c);
        double relative = OnnxTestModels.RelativeMaxDifference(reference, OnnxTestModels.Runtime(session, model.Config, x, t, c));
        Assert.True(relative <= Tolerance, $"{relative:E2} > {Tolerance:E0}");
        // And the padding matters: the same weights zero-padded compute something else.
        var zeros = new SpriteDiffusion.Model.UNet(model.Config with { Padding = Layers.PaddingMode.Zeros });
        model.Store.Values.Span.CopyTo(zeros.Store.Values.Span);
        foreach (var (a, b) in model.Store.Entries.Zip(zeros.Store.Entries)) b.Count = a.Count;
        Assert.True(OnnxTestModels.RelativeMaxDifference(reference, OnnxTestModels.Engine(zeros, x, t, c)) > 1e-2);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void AFrozenCircularModelKeepsItsPadding(int batch)
    {
        // Sampling runs frozen (folded BatchNorm, cached Winograd weights): that path must wrap
        // the edges too, checked against ONNX Runtime, which shares no code with it.
        var model = OnnxTestModels.Random(3, 16, seed: 91, padding: Layers.PaddingMode.Circular);
        using var session = new InferenceSession(OnnxExport.ToBytes(model, new OnnxMetadata()));
        var (x, t, c) = OnnxTestModels.Inputs(model.Config, batch, seed: 92);
        float[] frozen;
        using (model.Freeze()) frozen = OnnxTestModels.Engine(model, x, t, c);
        double relative = OnnxTestModels.RelativeMaxDifference(OnnxTestModels.Runtime(session, model.Config, x, t, c), frozen);
        Assert.True(relative <= Tolerance, $"{relative:E2} > {Tolerance:E0}");
    }

    [Fact]
    public void EachImageOfABatchIsComputedOnItsOwn()
    {
        // The batch dimension is symbolic: a batch must give each image what a batch of one gives it.
        var model = OnnxTestModels.Random(3, 16, seed: 4);
        using var session = new InferenceSession(OnnxExport.ToBytes(model, new OnnxMetadata()));
        var cfg = model.Config;
        var (x, t, c) = OnnxTestModels.Inputs(cfg, 5, seed: 11);
        var all = OnnxTestModels.Runtime(session, cfg, x, t, c);
        int plane = cfg.InChannels * cfg.Height * cfg.Height;
        int i = 3;
        var one = OnnxTestModels.Runtime(session, cfg, x[(i * plane)..((i + 1) * plane)], t[i..(i + 1)], c[(i * cfg.NCFeat)..((i + 1) * cfg.NCFeat)]);
        Assert.True(OnnxTestModels.RelativeMaxDifference(all[(i * plane)..((i + 1) * plane)], one) <= Tolerance);
    }
}
