using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.Engine;

/// <summary>
/// A batch of one split over the threads by F(2x2) tile rows: each slab's transforms against the
/// same tiles of the whole map, and the frozen convolution split that way against the split by
/// output channels, bit for bit (every output is the same arithmetic in the same order).
/// </summary>
public class WinogradSlabTests
{
    // 16x16: 8 tile rows; 20x12 and 6x10: slabs at the top, middle and bottom edges; circular
    // padding reads the opposite edge, which a slab of the middle rows does not hold.
    [Theory]
    [InlineData(16, 16, false)]
    [InlineData(20, 12, false)]
    [InlineData(20, 12, true)]
    [InlineData(6, 10, true)]
    [InlineData(9, 7, false)]
    public unsafe void ASlabsTilesAreThoseOfTheWholeMap(int h, int w, bool circular)
    {
        const int channels = 3;
        var rng = Rng.Derive(21, (ulong)(h * 100 + w));
        int down = Winograd.TilesAlong(h), across = Winograd.TilesAlong(w), all = down * across;
        var x = Array.ConvertAll(Normal(rng, channels * h * w), v => (float)v);
        long stride = Winograd.PositionStride(channels, all);
        var whole = new float[Winograd.Positions * stride];
        var plane = new float[Winograd.PlaneLength(h, w)];
        fixed (float* px = x, pv = whole, pp = plane)
            Winograd.TransformInput(px, 1, channels, h, w, pv, all, pp, circular);
        for (int first = 0; first < down; first++)
        for (int count = 1; first + count <= down; count++)
        {
            int tiles = count * across;
            long slabStride = Winograd.PositionStride(channels, tiles);
            var slab = new float[Winograd.Positions * slabStride];
            Array.Fill(slab, float.NaN);
            Array.Fill(plane, float.NaN);
            fixed (float* px = x, pv = slab, pp = plane)
                Winograd.TransformInputRows(px, channels, h, w, first, count, pv, tiles, pp, circular);
            for (int e = 0; e < Winograd.Positions; e++)
            for (int c = 0; c < channels; c++)
            for (int t = 0; t < tiles; t++)
                Assert.Equal(whole[e * stride + c * all + first * across + t], slab[e * slabStride + c * tiles + t]);
        }
    }

    [Theory]
    [InlineData(16, 16, false)]
    [InlineData(20, 12, true)]
    [InlineData(6, 10, false)]
    public unsafe void ASlabsOutputRowsAreThoseOfTheWholeMap(int h, int w, bool gelu)
    {
        const int channels = 3;
        var rng = Rng.Derive(22, (ulong)(h * 100 + w));
        int down = Winograd.TilesAlong(h), across = Winograd.TilesAlong(w), all = down * across;
        long stride = Winograd.PositionStride(channels, all);
        var m = Array.ConvertAll(Normal(rng, (int)(Winograd.Positions * stride)), v => (float)v);
        var bias = Array.ConvertAll(Normal(rng, channels), v => (float)v);
        var whole = new float[channels * h * w];
        var plane = new float[Winograd.PlaneLength(h, w)];
        fixed (float* pm = m, py = whole, pb = bias, pp = plane)
            Winograd.TransformOutputChannels(pm, stride, all, py, 1, channels, 0, channels, h, w, pb, gelu, pp);
        for (int first = 0; first < down; first++)
        for (int count = 1; first + count <= down; count++)
        {
            int tiles = count * across;
            long slabStride = Winograd.PositionStride(channels, tiles);
            var slabM = new float[Winograd.Positions * slabStride];
            for (int e = 0; e < Winograd.Positions; e++)
            for (int c = 0; c < channels; c++)
                Array.Copy(m, e * stride + c * all + first * across, slabM, e * slabStride + c * tiles, tiles);
            var y = new float[channels * h * w];
            Array.Fill(y, float.NaN);
            fixed (float* pm = slabM, py = y, pb = bias)
                Winograd.TransformOutputRows(pm, slabStride, tiles, py, channels, h, w, first, count, pb, gelu);
            // The slab's rows, and nothing else, are written.
            for (int c = 0; c < channels; c++)
            for (int r = 0; r < h; r++)
            for (int q = 0; q < w; q++)
            {
                int i = (c * h + r) * w + q;
                if (r >= 2 * first && r < 2 * (first + count)) Assert.Equal(whole[i], y[i]);
                else Assert.True(float.IsNaN(y[i]), $"row {r} is outside the slab of tile rows {first}..{first + count - 1}");
            }
        }
    }

    [Fact]
    public unsafe void OddSidesAreRefusedForOutputSlabs()
    {
        var m = new float[Winograd.Positions * Winograd.PositionStride(1, 5)];
        var y = new float[9 * 10];
        Assert.Throws<ArgumentException>(() =>
        {
            fixed (float* pm = m, py = y) Winograd.TransformOutputRows(pm, Winograd.PositionStride(1, 5), 5, py, 1, 9, 10, 0, 1, null, false);
        });
    }

    // 32 -> 32 and 24 -> 40 at 16x16 (8 tile rows of 8), 16 -> 48 at 20x24 (10 of 12): enough
    // work to split; circular padding and GELU on some.
    [Theory]
    [InlineData(32, 32, 16, 16, false, true)]
    [InlineData(24, 40, 16, 16, true, false)]
    [InlineData(16, 48, 20, 24, true, true)]
    public void ABatchOfOneSplitByTileRowsGivesTheSameBits(int cin, int cout, int h, int w, bool circular, bool gelu)
    {
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", cin, cout, 3)
        {
            Algorithm = ConvAlgorithm.Winograd,
            Padding = circular ? PaddingMode.Circular : PaddingMode.Zeros,
        };
        store.Allocate(new Rng(4));
        var xs = Normal(Rng.Derive(4, (ulong)h), cin * h * w);
        float[] Run(bool split)
        {
            var frozen = conv.Freeze(gelu: gelu);
            frozen.Tiles = WinogradTiles.F2x2;
            frozen.SplitTileRows = split;
            if (split) Assert.Equal(Workers.Threads > 1, frozen.SplitsTileRows(1, h, w));
            var y = Poisoned(1, cout, h, w);
            frozen.Forward(ToTensor(xs, 1, cin, h, w), y);
            return y.Span.ToArray();
        }
        var byRows = Run(split: true);
        Assert.All(byRows, v => Assert.True(float.IsFinite(v)));
        var byChannels = Run(split: false);
        Assert.Equal(byChannels, byRows);
        // Left to choose, a layer times both splits call after call (both run within the first
        // calls, and again every ExploreEvery-th): every call gives the same bits.
        var choosing = conv.Freeze(gelu: gelu);
        choosing.Tiles = WinogradTiles.F2x2;
        Assert.Equal(Workers.Threads > 1, choosing.SplitsTileRows(1, h, w));
        for (int call = 0; call < 3 * SplitChooser.ExploreEvery; call++)
        {
            var y = Poisoned(1, cout, h, w);
            choosing.Forward(ToTensor(xs, 1, cin, h, w), y);
            Assert.Equal(byChannels, y.Span.ToArray());
        }
    }
}
