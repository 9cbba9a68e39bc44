using SpriteDiffusion.Engine;
using SpriteDiffusion.Engine.Gemm;
using SpriteDiffusion.Layers;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.Engine;

/// <summary>
/// One image held as two halves of rows (HalfRows): each layer that runs in halves against the
/// same layer on the whole map, bit for bit (every output is the same arithmetic in the same
/// order), with outputs poisoned so that a half left unwritten fails.
/// </summary>
public class HalfRowsTests
{
    private static Tensor Random(ulong seed, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        Load(t, Normal(new Rng(seed), t.Length));
        return t;
    }

    private static Tensor Halves(Tensor whole)
    {
        var y = Poisoned(2, whole.Dim(1), whole.Dim(2) / 2, whole.Dim(3));
        HalfRows.Split(whole, y);
        return y;
    }

    private static Tensor Whole(Tensor halves)
    {
        var y = Poisoned(1, halves.Dim(1), 2 * halves.Dim(2), halves.Dim(3));
        HalfRows.Join(halves, y);
        return y;
    }

    private static void AssertSameBits(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected.Span[i]) == BitConverter.SingleToInt32Bits(actual.Span[i]),
                $"element {i}: {actual.Span[i]}, the whole map's {expected.Span[i]}");
    }

    [Fact]
    public void SplitThenJoinGivesTheImageBackAndSplitPutsRowsInTheirHalf()
    {
        var x = Random(1, 1, 3, 8, 6);
        var h = Halves(x);
        // Row 5 of channel 2, column 4: half 1, its row 1.
        Assert.Equal(x.Span[(2 * 8 + 5) * 6 + 4], h.Span[((1 * 3 + 2) * 4 + 1) * 6 + 4]);
        AssertSameBits(x, Whole(h));
        Assert.Throws<ArgumentException>(() => HalfRows.Split(x, Tensor.Zeros(2, 3, 8, 6)));
        Assert.Throws<ArgumentException>(() => HalfRows.Join(Tensor.Zeros(1, 3, 4, 6), x));
    }

    // Wide maps (16 and 8 pixels: the 16-lane transform on AVX-512) and a 12-wide one (the
    // general path), whole or in halves, every slab of tile rows; and the general path forced.
    [Theory]
    [InlineData(16, 16, true)]
    [InlineData(8, 8, true)]
    [InlineData(16, 12, true)]
    [InlineData(16, 16, false)]
    [InlineData(8, 8, false)]
    public unsafe void TheInputTransformOfHalvesIsThatOfTheWholeMap(int h, int w, bool wide)
    {
        const int channels = 5;
        var x = Random((ulong)(h * 100 + w), 1, channels, h, w);
        var halves = Halves(x);
        int down = Winograd.TilesAlong(h), across = Winograd.TilesAlong(w);
        var plane = new float[Winograd.PlaneLength(h, w)];
        for (int first = 0; first < down; first++)
        for (int count = 1; first + count <= down; count++)
        {
            int tiles = count * across;
            long stride = Winograd.PositionStride(channels, tiles);
            var expected = new float[Winograd.Positions * stride];
            var fromHalves = new float[expected.Length];
            var fromWhole = new float[expected.Length];
            Array.Fill(fromHalves, float.NaN);
            Array.Fill(fromWhole, float.NaN);
            fixed (float* px = x.Span, ph = halves.Span, pe = expected, pv = fromHalves, pw = fromWhole, pp = plane)
            {
                Winograd.TransformInputRows(px, channels, h, w, first, count, pe, tiles, pp, wide: wide);
                Winograd.TransformInputHalves(ph, ph + channels * h / 2 * w, h / 2 * w, channels, h, w, first, count, pv, tiles, pp, wide);
                Winograd.TransformInputHalves(px, px + h / 2 * w, h * w, channels, h, w, first, count, pw, tiles, pp, wide);
            }
            for (int e = 0; e < Winograd.Positions; e++)
            for (int c = 0; c < channels; c++)
            for (int t = 0; t < tiles; t++)
            {
                long i = e * stride + c * tiles + t;
                Assert.Equal(expected[i], fromHalves[i]);
                Assert.Equal(expected[i], fromWhole[i]);
            }
        }
    }

    // 32 -> 32 at 16x16, 24 -> 40 at 16x12 (the general transform), 64 -> 3 at 8x8 (no panels).
    [Theory]
    [InlineData(32, 32, 16, 16, true)]
    [InlineData(24, 40, 16, 12, false)]
    [InlineData(64, 3, 8, 8, false)]
    public void AConvolutionInHalvesGivesTheWholeMapsBits(int cin, int cout, int h, int w, bool gelu)
    {
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", cin, cout, 3) { Algorithm = ConvAlgorithm.Winograd };
        store.Allocate(new Rng(7));
        var x = Random(8, 1, cin, h, w);
        var frozen = conv.Freeze(gelu: gelu);
        frozen.Tiles = WinogradTiles.F2x2;
        Assert.True(frozen.RunsHalves);
        var expected = Poisoned(1, cout, h, w);
        frozen.Forward(x, expected);
        Assert.All(expected.Span.ToArray(), v => Assert.True(float.IsFinite(v)));
        foreach (var input in new[] { Halves(x), x })
        {
            var y = Poisoned(2, cout, h / 2, w);
            frozen.ForwardHalves(input, y);
            AssertSameBits(expected, Whole(y));
        }
    }

    // The model's first layers: a direct 3x3 and 1x1 over 3 channels, with and without GELU,
    // from a whole input into halves.
    [Theory]
    [InlineData(3, 64, 3, true)]
    [InlineData(3, 16, 1, false)]
    public void ADirectConvolutionFromAWholeMapIntoHalvesGivesTheWholeMapsBits(int cin, int cout, int kernel, bool gelu)
    {
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", cin, cout, kernel);
        store.Allocate(new Rng(14));
        var x = Random(15, 1, cin, 16, 16);
        var frozen = conv.Freeze(gelu: gelu);
        Assert.False(frozen.RunsHalves);
        Assert.True(frozen.RunsHalvesFromWhole);
        var expected = Poisoned(1, cout, 16, 16);
        frozen.Forward(x, expected);
        var y = Poisoned(2, cout, 8, 16);
        frozen.ForwardHalves(x, y);
        AssertSameBits(expected, Whole(y));
        // A direct layer reads no row of the other half: an input in halves is refused.
        Assert.Throws<ArgumentException>(() => frozen.ForwardHalves(Halves(x), y));
    }

    [Fact]
    public void ConvolutionsThatCannotRunInHalvesRefuse()
    {
        var store = new ParameterStore();
        var circular = new Conv2d(store, "c", 16, 16, 3) { Algorithm = ConvAlgorithm.Winograd, Padding = PaddingMode.Circular };
        var direct = new Conv2d(store, "d", 3, 16, 3);
        var ok = new Conv2d(store, "ok", 16, 16, 3) { Algorithm = ConvAlgorithm.Winograd };
        store.Allocate(new Rng(9));
        foreach (var conv in new[] { circular, direct })
        {
            var frozen = conv.Freeze();
            Assert.False(frozen.RunsHalves);
            Assert.Throws<ArgumentException>(() => frozen.ForwardHalves(Tensor.Zeros(2, conv.In, 8, 16), Tensor.Zeros(2, 16, 8, 16)));
        }
        Assert.False(circular.Freeze().RunsHalvesFromWhole);
        Assert.Throws<ArgumentException>(() => circular.Freeze().ForwardHalves(Tensor.Zeros(1, 16, 16, 16), Tensor.Zeros(2, 16, 8, 16)));
        // Halves of 4 rows (h 8) hold two tile rows each; halves of 2 rows (h 4) are refused.
        var frozenOk = ok.Freeze();
        Assert.True(frozenOk.RunsHalves);
        Assert.Throws<ArgumentException>(() => frozenOk.ForwardHalves(Tensor.Zeros(2, 16, 2, 8), Tensor.Zeros(2, 16, 2, 8)));
    }

    // The model's up-sampling: 8x8 to 16x16 (a 32-column product per half); 64 -> 32 channels.
    [Theory]
    [InlineData(128, 64, 8)]
    [InlineData(64, 32, 16)]
    public void ATransposedConvolutionInHalvesGivesTheWholeMapsBits(int cin, int cout, int size)
    {
        var store = new ParameterStore();
        var conv = new ConvTranspose2d(store, "up", cin, cout, 2);
        store.Allocate(new Rng(10));
        var x = Random(11, 1, cin, size, size);
        var frozen = conv.Freeze();
        var y = Poisoned(2, cout, size, 2 * size);
        if (!PanelProducts.CanPack(cout * 4))
        {
            // Without packed panels (no AVX-512) there are no halves, and the model keeps whole maps.
            Assert.False(frozen.RunsHalves(size, size));
            Assert.Throws<ArgumentException>(() => frozen.ForwardHalves(x, y));
            return;
        }
        Assert.True(frozen.RunsHalves(size, size));
        var expected = Poisoned(1, cout, 2 * size, 2 * size);
        frozen.Forward(x, expected);
        frozen.ForwardHalves(x, y);
        AssertSameBits(expected, Whole(y));
        Assert.False(frozen.RunsHalves(3, 3));
        Assert.Throws<ArgumentException>(() => frozen.ForwardHalves(x, Tensor.Zeros(1, cout, 2 * size, 2 * size)));
    }

    [Fact]
    public void ElementwiseOpsPoolingAndConcatenationActOnEachHalf()
    {
        var a = Random(12, 1, 6, 8, 8);
        var b = Random(13, 1, 6, 8, 8);
        var residual = Poisoned(1, 6, 8, 8);
        TensorOps.Residual(a, b, residual);
        var r = Poisoned(2, 6, 4, 8);
        HalfRows.Residual(Halves(a), Halves(b), r);
        AssertSameBits(residual, Whole(r));

        var cat = Poisoned(1, 12, 8, 8);
        TensorOps.ConcatChannels(a, b, cat);
        var c = Poisoned(2, 12, 4, 8);
        HalfRows.ConcatChannels(Halves(a), Halves(b), c);
        AssertSameBits(cat, Whole(c));

        var pooled = Poisoned(1, 6, 4, 4);
        Pooling.MaxPool2Forward(a, pooled);
        var p = Poisoned(2, 6, 2, 4);
        HalfRows.MaxPool2(Halves(a), p);
        AssertSameBits(pooled, Whole(p));

        // Shapes that are not halves of one map, or do not match, are refused (no write past y).
        Assert.Throws<ArgumentException>(() => HalfRows.Residual(a, b, residual));
        Assert.Throws<ArgumentException>(() => HalfRows.Residual(Halves(a), Halves(b), Tensor.Zeros(2, 6, 4, 4)));
        Assert.Throws<ArgumentException>(() => HalfRows.ConcatChannels(Halves(a), Halves(b), Tensor.Zeros(2, 11, 4, 8)));
        Assert.Throws<ArgumentException>(() => HalfRows.MaxPool2(Halves(a), Tensor.Zeros(2, 6, 4, 4)));
    }
}
