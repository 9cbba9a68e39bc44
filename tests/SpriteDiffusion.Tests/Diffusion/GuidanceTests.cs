using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Generation;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Tests.Diffusion;

public class GuidanceTests
{
    private static SpriteGenerator Generator(bool conditional = true, double dropout = 0.1)
    {
        var model = new UNet(new UNetConfig(NFeat: 8, NCFeat: 4), seed: 21);
        // Random non-trivial running statistics, so eval mode is not the identity normalisation.
        foreach (var e in model.Store.Entries.Where(e => e.Kind == StateKind.Buffer))
            new Rng(22).FillUniform(e.Value.Span, 0.5f, 1.5f);
        return new SpriteGenerator(model, new CheckpointInfo { Model = model.Config, Conditional = conditional, ContextDropout = dropout, ClassNames = ["a", "b", "c", "d"] });
    }

    private static float[] Run(SpriteGenerator g, double guidance, int[]? classes, int count = 3)
    {
        g.Guidance = guidance;
        var noise = new float[count * g.ImageLength];
        new Rng(5).FillGaussian(noise);
        var sampler = g.CreateSampler("ddim", 1, 0);
        return g.Generate(sampler, count, new Rng(0), noise, classes is null ? default : g.OneHot(classes));
    }

    [Fact]
    public void GuidanceInterpolatesAndExtrapolatesBetweenTheNullAndTheClassPrediction()
    {
        var g = Generator();
        int[] classes = [0, 2, 3];
        var unconditional = Run(g, 1.0, null);
        var w0 = Run(g, 0.0, classes);
        var w1 = Run(g, 1.0, classes);
        var w3 = Run(g, 3.0, classes);
        // w = 0 is the null context alone.
        for (int i = 0; i < w0.Length; i++) Assert.Equal(unconditional[i], w0[i], 5);
        Assert.NotEqual(unconditional, w1);
        // One DDIM step at eta 0 is affine in eps_hat, and eps_hat is affine in w.
        // x0 after one step from t = 999 is eps amplified about 150 times, so the samples reach the
        // hundreds, where float32 resolves 1e-5 and worse: the bound is relative to their size.
        double worst = 0, scale = 0;
        for (int i = 0; i < w0.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(w3[i] - (w0[i] + 3 * (w1[i] - w0[i]))));
            scale = Math.Max(scale, Math.Max(Math.Abs(w3[i]), Math.Abs(w0[i])));
        }
        Assert.True(worst <= 1e-6 * scale, $"guided sample is off the line by {worst} (samples up to {scale})");
    }

    [Fact]
    public void ClassesAreResolvedByNameOrIndexAndRefusedOnUnconditionalModels()
    {
        var g = Generator();
        Assert.Equal(2, g.ResolveClass("C"));
        Assert.Equal(3, g.ResolveClass("3"));
        var e = Assert.Throws<ArgumentException>(() => g.ResolveClass("zebra"));
        Assert.Contains("'a'", e.Message);
        Assert.Throws<ArgumentException>(() => g.ResolveClass("4"));
        Assert.Throws<ArgumentException>(() => Generator(conditional: false).ResolveClass("a"));
    }

    [Fact]
    public void GuidanceIsRefusedWhenTheNullContextWasNeverTrained()
    {
        var g = Generator(dropout: 0);
        Assert.Contains("sample at guidance 1", Assert.Throws<ArgumentException>(() => Run(g, 3.0, [0, 1, 2])).Message);
        Assert.Equal(3 * g.ImageLength, Run(g, 1.0, [0, 1, 2]).Length);
    }
}
