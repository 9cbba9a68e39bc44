using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;

namespace SpriteDiffusion.Tests.Model;

public class UNetStructureTests
{
    [Theory]
    [InlineData(64, 1_481_027)]
    [InlineData(128, 5_902_979)]
    public void ParameterCountMatchesTheSeed(int nFeat, int expected)
    {
        var model = new UNet(new UNetConfig(NFeat: nFeat));
        Assert.Equal(expected, model.Store.ParameterCount);
        Assert.Equal(158, model.Store.Entries.Count);
    }

    // The SPEC's forward cost (the bench's effective GFLOP/s); Winograd does 16 multiplies per
    // 2x2 tile where a direct 3x3 does 36, on every 3x3 layer but the first and the last.
    [Theory]
    [InlineData(64, 150.7, 69.4)]
    [InlineData(128, 600.8, 275.7)]
    public void MultiplyAddsMatchTheSpec(int nFeat, double forwardMillions, double executedMillions)
    {
        var config = new UNetConfig(NFeat: nFeat);
        Assert.Equal(forwardMillions, UNetCost.ForwardMultiplyAdds(config) / 1e6, 1);
        Assert.Equal(executedMillions, UNetCost.ExecutedMultiplyAdds(config) / 1e6, 1);
    }

    // Sampling's frozen pass at n_feat 64: the last 3x3 layer (64 -> 3) goes through Winograd too
    // (69.4 M - 64*3*(9*256 - 16*64) = 69.15 M); with two or more images per thread the 16x16 maps'
    // eleven n_feat^2-sized 3x3 layers and that last one take F(4x4): 36 x 16 instead of 16 x 64
    // multiplies per channel pair, 448 fewer, over 9 nf^2 + 2 nf^2 + 3 nf pairs: 20.27 M fewer.
    // A batch of one takes F(4x4) too on a single thread, or on two without AVX-512.
    [Theory]
    [InlineData(1, 69.15)]
    [InlineData(64, 48.88)]
    public void SampledMultiplyAddsFollowTheFrozenPassChoices(int batch, double millions)
    {
        var config = new UNetConfig(NFeat: 64);
        bool f4 = batch > 1 || Workers.Threads == 1 || Workers.Threads == 2 && !Sgemm.HasAvx512;
        Assert.Equal(f4 ? 48.88 : millions, UNetCost.SampledMultiplyAdds(config, batch) / 1e6, 2);
        Assert.Contains(f4 ? "F(4x4,3x3)" : "F(2x2,3x3)", UNetCost.SampledAlgorithm(config, batch));
    }

    [Fact]
    public void ForwardAndBackwardRunAtSeveralBatchSizes()
    {
        var model = new UNet(new UNetConfig(NFeat: 16), seed: 3);
        var rng = new Rng(5);
        foreach (int b in new[] { 3, 1, 3 })
        {
            var x = Tensor.Zeros(b, 3, 16, 16); rng.FillGaussian(x.Span);
            var t = Tensor.Zeros(b, 1); rng.FillUniform(t.Span, 0, 1);
            var c = Tensor.Zeros(b, 5); rng.FillUniform(c.Span, 0, 1);
            var y = model.Forward(x, t, c, training: true);
            Assert.Equal(new[] { b, 3, 16, 16 }, y.Shape);
            Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v)));
            var gy = Tensor.Zeros(b, 3, 16, 16); rng.FillGaussian(gy.Span);
            model.Store.ZeroGrads();
            model.Backward(gy);
            Assert.Contains(model.Store.Grads.ToArray(), v => v != 0);
        }
    }
}
