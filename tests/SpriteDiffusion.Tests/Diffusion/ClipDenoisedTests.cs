using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Generation;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Tests.Diffusion;

public class ClipDenoisedTests
{
    private static float[] OneStep(bool clip, string method)
    {
        var model = new UNet(new UNetConfig(NFeat: 8), seed: 31);
        var g = new SpriteGenerator(model, new CheckpointInfo { Model = model.Config }) { ClipDenoised = clip };
        // One step from t = T - 1 lands on x0_hat itself, for DDIM and DPM-Solver++ alike.
        return g.Generate(g.CreateSampler(method, 1, 0), 4, new Rng(2));
    }

    [Theory]
    [InlineData("ddim")]
    [InlineData("dpm++2m")]
    public void ClippingKeepsTheImpliedCleanImageInRange(string method)
    {
        var plain = OneStep(false, method);
        var clipped = OneStep(true, method);
        // An untrained network's x0_hat at t = 999 is its noise error times about 150.
        Assert.True(plain.Max(Math.Abs) > 2, "the unclipped step should leave [-1, 1]");
        Assert.All(clipped, v => Assert.InRange(v, -1.001f, 1.001f));
        // Pixels whose x0_hat was already in range are untouched.
        int inside = 0;
        for (int i = 0; i < plain.Length; i++)
            if (Math.Abs(plain[i]) < 0.99) { inside++; Assert.Equal(plain[i], clipped[i], 1e-3); }
        Assert.True(inside > 0);
    }
}
