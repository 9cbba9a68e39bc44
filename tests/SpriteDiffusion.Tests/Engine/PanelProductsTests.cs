using SpriteDiffusion.Engine;
using SpriteDiffusion.Engine.Gemm;
using SpriteDiffusion.Layers;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.Engine;

/// <summary>
/// The frozen Winograd layers' products on packed weight panels against the blocked GEMM, bit for
/// bit: each element is the same fused chain over the input channels. Both kernel families are
/// called directly (AVX-512 and AVX2), so each comparison also runs (emulated) where its
/// instructions are missing.
/// </summary>
public class PanelProductsTests
{
    // 64 tiles: the 8 x 32 kernel on 8-row halves of 16-row panels; 16 and 48: the 16 x 16 kernel
    // and the 8 x 16 one on 8-row remainders (40 and 24 output channels end in an 8-row panel).
    [Theory]
    [InlineData(32, 32, 64)]
    [InlineData(64, 64, 16)]
    [InlineData(40, 24, 16)]
    [InlineData(24, 16, 48)]
    [InlineData(8, 3, 32)]
    public unsafe void EveryBlockOfOutputChannelsIsTheGemmsBits(int outChannels, int inChannels, int tiles)
    {
        Check(outChannels, inChannels, tiles, (pp, v, vStride, m, mStride, o0, o1) =>
            PanelProducts.Multiply512(pp, 3, outChannels, inChannels, v, vStride, tiles, m, mStride, o0, o1));
        Check(outChannels, inChannels, tiles, (pp, v, vStride, m, mStride, o0, o1) =>
            PanelProducts.Multiply256(pp, 3, outChannels, inChannels, v, vStride, tiles, m, mStride, o0, o1));
        Check(outChannels, inChannels, tiles, (pp, v, vStride, m, mStride, o0, o1) =>
            PanelProducts.Multiply(pp, 3, outChannels, inChannels, v, vStride, tiles, m, mStride, o0, o1));
    }

    private unsafe delegate void PanelMultiply(float* packed, float* v, long vStride, float* m, long mStride, int o0, int o1);

    private static unsafe void Check(int outChannels, int inChannels, int tiles, PanelMultiply multiply)
    {
        const int positions = 3;
        var rng = Rng.Derive(31, (ulong)(outChannels * 1000 + inChannels * 10 + tiles));
        var u = Array.ConvertAll(Normal(rng, positions * outChannels * inChannels), x => (float)x);
        long vStride = Winograd.PositionStride(inChannels, tiles), mStride = Winograd.PositionStride(outChannels, tiles);
        var v = Array.ConvertAll(Normal(rng, (int)(positions * vStride)), x => (float)x);
        var expected = new float[positions * mStride];
        var packed = new float[u.Length];
        fixed (float* pu = u, pv = v, pe = expected, pp = packed)
        {
            for (int e = 0; e < positions; e++)
                Sgemm.Multiply(false, false, outChannels, tiles, inChannels, pu + e * outChannels * inChannels, inChannels,
                    pv + e * vStride, tiles, pe + e * mStride, tiles, accumulate: false);
            PanelProducts.Pack(pu, pp, positions, outChannels, inChannels);
        }
        for (int o0 = 0; o0 < outChannels; o0 += 8)
        for (int o1 = o0 + 8; o1 <= outChannels; o1 += 8)
        {
            var m = new float[expected.Length];
            Array.Fill(m, float.NaN);
            fixed (float* pp = packed, pv = v, pm = m)
                multiply(pp, pv, vStride, pm, mStride, o0, o1);
            for (int e = 0; e < positions; e++)
            for (int o = 0; o < outChannels; o++)
            for (int t = 0; t < tiles; t++)
            {
                long i = e * mStride + (long)o * tiles + t;
                if (o >= o0 && o < o1) Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(m[i]), $"element {i} is {m[i]}, the GEMM's {expected[i]}");
                else Assert.True(float.IsNaN(m[i]), $"channel {o} is outside the block {o0}..{o1 - 1}");
            }
        }
    }

    // Batch 1 at 16x16 (F(2x2), 64 tiles) and 8x8 (16 tiles), F(4x4) on three 16x16 images (48
    // tiles), F(2x2) on two 8x8 ones; 40 and 24 output channels end in an 8-row panel.
    [Theory]
    [InlineData(32, 32, 16, 1, false, true)]
    [InlineData(24, 40, 8, 1, false, false)]
    [InlineData(16, 24, 16, 3, true, true)]
    [InlineData(32, 32, 8, 2, false, true)]
    public void AFrozenLayerOnPanelsGivesTheGemmsBits(int cin, int cout, int side, int batch, bool f4, bool gelu)
    {
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", cin, cout, 3) { Algorithm = ConvAlgorithm.Winograd };
        store.Allocate(new Rng(6));
        var xs = Normal(Rng.Derive(6, (ulong)(side * 10 + batch)), batch * cin * side * side);
        float[] Run(bool panels)
        {
            var frozen = conv.Freeze(gelu: gelu);
            frozen.Tiles = f4 ? WinogradTiles.F4x4 : WinogradTiles.F2x2;
            frozen.UsePanels = panels;
            var y = Poisoned(batch, cout, side, side);
            frozen.Forward(ToTensor(xs, batch, cin, side, side), y);
            return y.Span.ToArray();
        }
        var onPanels = Run(panels: true);
        Assert.All(onPanels, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(Run(panels: false), onPanels);
    }
}
