using SpriteDiffusion.Engine;
using SpriteDiffusion.Engine.Gemm;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Reference;

namespace SpriteDiffusion.Tests.Model;

/// <summary>
/// The frozen U-Net at batch 1 with its large maps in halves of rows (UNet.HalfRowsOverride)
/// against the same pass on whole maps: the same bits where the whole maps take F(2x2) tiles
/// (two AVX-512 threads, where the model picks halves by itself), within float rounding where
/// they take F(4x4).
/// </summary>
public class HalfRowsModelTests
{
    [Theory]
    [InlineData("nf32_b1")]
    [InlineData("nf64_b1")]
    public void TheFrozenModelInHalvesGivesTheWholeMapsOutput(string name)
    {
        var (model, x, t, c) = EvalRegressionTests.ForwardCase(name);
        using var scope = model.Freeze();
        // Left to decide, halves on two threads where F(2x2) is the batch-1 choice (AVX-512); forced,
        // wherever the layers can (packed panels: AVX-512 or AVX2); never at batch 4.
        int h = model.Config.Height;
        Assert.Equal(Workers.Threads == 2 && !Conv2d.Frozen.AutoPicksF4(1, h, h), model.RunsHalves(1));
        model.HalfRowsOverride = true;
        Assert.Equal(PanelProducts.CanPack(8), model.RunsHalves(1));
        Assert.False(model.RunsHalves(4));
        model.HalfRowsOverride = false;
        Assert.False(model.RunsHalves(1));
        var whole = model.Forward(x, t, c, training: false).ToArray();
        model.HalfRowsOverride = true;
        var halves = model.Forward(x, t, c, training: false).ToArray();
        Assert.All(halves, v => Assert.True(float.IsFinite(v)));
        if (!Conv2d.Frozen.AutoPicksF4(1, model.Config.Height, model.Config.Height))
            for (int i = 0; i < whole.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(halves[i]), $"element {i}: {halves[i]} in halves, {whole[i]} whole");
        else Fixture.AssertClose(whole, halves, name + " in halves", EvalRegressionTests.ForwardTolerance);
        // A second pass reuses the halves' buffers: the same output again.
        Assert.Equal(halves, model.Forward(x, t, c, training: false).ToArray());
    }

    // The residual average in halves: a 1x1 projection (16 -> 32) and the identity (16 -> 16), from
    // a whole input and from one in halves, against the frozen block on the whole map.
    [Theory]
    [InlineData(16, 32, true)]
    [InlineData(16, 32, false)]
    [InlineData(16, 16, true)]
    [InlineData(16, 16, false)]
    public void AResidualBlockInHalvesGivesTheWholeMapsOutput(int cin, int cout, bool wholeInput)
    {
        var store = new ParameterStore();
        var block = new ResidualConvBlock(store, "b", cin, cout, isRes: true);
        store.Allocate(new Rng(23));
        var x = Tensor.Zeros(1, cin, 16, 16);
        new Rng(24).FillUniform(x.Span, -2, 2);
        block.SetFrozen(true);
        Assert.True(block.RunsHalves(wholeInput));
        var expected = block.Forward(x, training: false).ToArray();
        Tensor input = x;
        if (!wholeInput) HalfRows.Split(x, input = Tensor.Zeros(2, cin, 8, 16));
        var halves = block.FrozenForwardHalves(input);
        var y = Tensor.Zeros(1, cout, 16, 16);
        HalfRows.Join(halves, y);
        Assert.All(y.Span.ToArray(), v => Assert.True(float.IsFinite(v)));
        if (!Conv2d.Frozen.AutoPicksF4(1, 16, 16)) Assert.Equal(expected, y.Span.ToArray());
        else Fixture.AssertClose(expected, y.Span, "residual block in halves", EvalRegressionTests.ForwardTolerance);
    }

    [Fact]
    public void HalvesAreOnlyForABatchOfOneWithZeroPadding()
    {
        var (model, x, t, c) = EvalRegressionTests.ForwardCase("nf32_b4");
        using (model.Freeze())
        {
            model.HalfRowsOverride = false;
            var expected = model.Forward(x, t, c, training: false).ToArray();
            model.HalfRowsOverride = true;
            Assert.Equal(expected, model.Forward(x, t, c, training: false).ToArray());
        }
        // Models with layers that cannot run in halves keep whole maps: n_feat 8 (direct
        // convolutions), circular padding (a half does not hold the opposite edge).
        foreach (var config in new[] { new UNetConfig(NFeat: 8, NCFeat: 5), new UNetConfig(NFeat: 16, NCFeat: 5) { Padding = PaddingMode.Circular } })
        {
            var small = new UNet(config, seed: 3);
            var xs = Tensor.Zeros(1, config.InChannels, config.Height, config.Height);
            new Rng(4).FillUniform(xs.Span, -1, 1);
            var ts = Tensor.Zeros(1, 1); ts.Span[0] = 0.5f;
            var cs = Tensor.Zeros(1, config.NCFeat); cs.Span[1] = 1f;
            using (small.Freeze())
            {
                small.HalfRowsOverride = false;
                var expected = small.Forward(xs, ts, cs, training: false).ToArray();
                small.HalfRowsOverride = true;
                Assert.Equal(expected, small.Forward(xs, ts, cs, training: false).ToArray());
            }
        }
        // Outside an inference scope nothing is frozen, so there are no halves either.
        var (live, x1, t1, c1) = EvalRegressionTests.ForwardCase("nf32_b1");
        live.HalfRowsOverride = true;
        var unfrozen = live.Forward(x1, t1, c1, training: false).ToArray();
        live.HalfRowsOverride = false;
        Assert.Equal(unfrozen, live.Forward(x1, t1, c1, training: false).ToArray());
    }
}
