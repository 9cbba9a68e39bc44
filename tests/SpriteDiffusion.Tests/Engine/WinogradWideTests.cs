using SpriteDiffusion.Engine;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.Engine;

/// <summary>
/// The 16-lane F(2x2) transforms against the general path, bit for bit: the input transform for
/// 16- and 8-pixel rows and the output transform (with GELU) for 8-pixel rows, on whole maps of
/// several images, blocks of output channels and every slab of tile rows they take. They are called
/// directly, so they run (emulated) where AVX-512 is missing too.
/// </summary>
public class WinogradWideTests
{
    [Theory]
    [InlineData(16, 16, 2)]
    [InlineData(8, 8, 3)]
    [InlineData(12, 16, 1)]
    [InlineData(16, 8, 2)]
    [InlineData(4, 8, 1)]
    [InlineData(2, 16, 1)]
    public unsafe void WholeMapsAreTheGeneralPathsBits(int h, int w, int images)
    {
        const int channels = 3;
        var rng = Rng.Derive(41, (ulong)(h * 100 + w));
        int tiles = images * Winograd.TilesAlong(h) * Winograd.TilesAlong(w);
        var x = Array.ConvertAll(Normal(rng, images * channels * h * w), v => (float)v);
        long stride = Winograd.PositionStride(channels, tiles);
        var general = new float[Winograd.Positions * stride];
        var wide = new float[general.Length];
        Array.Fill(wide, float.NaN);
        var plane = new float[Winograd.PlaneLength(h, w)];
        Assert.True(Winograd.WideFits(h, w, Winograd.TilesAlong(h), circular: false));
        fixed (float* px = x, pg = general, pw = wide, pp = plane)
        {
            Winograd.TransformInput(px, images, channels, h, w, pg, tiles, pp, wide: false);
            Winograd.TransformInputWide(px, images, channels, h, w, 0, Winograd.TilesAlong(h), pw, tiles);
        }
        AssertTilesEqual(general, wide, stride, channels, tiles);
    }

    // Slabs at the top, middle and bottom; 8-pixel rows go in pairs of tile rows.
    [Theory]
    [InlineData(16, 16)]
    [InlineData(12, 8)]
    public unsafe void EverySlabIsTheGeneralPathsBits(int h, int w)
    {
        const int channels = 2;
        var rng = Rng.Derive(42, (ulong)(h * 100 + w));
        int down = Winograd.TilesAlong(h), across = Winograd.TilesAlong(w);
        var x = Array.ConvertAll(Normal(rng, channels * h * w), v => (float)v);
        var plane = new float[Winograd.PlaneLength(h, w)];
        int slabs = 0;
        for (int first = 0; first < down; first++)
        for (int count = 1; first + count <= down; count++)
        {
            if (!Winograd.WideFits(h, w, count, circular: false)) continue;
            slabs++;
            int tiles = count * across;
            long stride = Winograd.PositionStride(channels, tiles);
            var general = new float[Winograd.Positions * stride];
            var wide = new float[general.Length];
            Array.Fill(wide, float.NaN);
            fixed (float* px = x, pg = general, pw = wide, pp = plane)
            {
                Winograd.TransformInputRows(px, channels, h, w, first, count, pg, tiles, pp, wide: false);
                Winograd.TransformInputWide(px, 1, channels, h, w, first, count, pw, tiles);
            }
            AssertTilesEqual(general, wide, stride, channels, tiles);
        }
        Assert.True(slabs >= down, $"only {slabs} slabs fit");
    }

    [Theory]
    [InlineData(16, 16, 8, false, true)]
    [InlineData(8, 8, 4, false, true)]
    [InlineData(8, 8, 3, false, false)]
    [InlineData(9, 16, 5, false, false)]
    [InlineData(16, 12, 8, false, false)]
    [InlineData(16, 16, 8, true, false)]
    public void OnlyEvenHeightsOf16Or8PixelRowsWithZeroPaddingFit(int h, int w, int rows, bool circular, bool fits)
    {
        Assert.Equal(fits, Winograd.WideFits(h, w, rows, circular));
    }

    [Theory]
    [InlineData(8, 2, 0, 5, false)]
    [InlineData(8, 3, 2, 3, true)]
    [InlineData(12, 1, 0, 5, true)]
    [InlineData(4, 2, 1, 4, false)]
    public unsafe void OutputsAreTheGeneralPathsBits(int h, int images, int first, int count, bool gelu)
    {
        const int w = 8, channels = 5;
        var rng = Rng.Derive(43, (ulong)(h * 100 + images * 10 + first));
        int tiles = images * Winograd.TilesAlong(h) * Winograd.TilesAlong(w);
        long stride = Winograd.PositionStride(channels, tiles);
        var m = Array.ConvertAll(Normal(rng, (int)(Winograd.Positions * stride)), v => (float)v);
        var bias = Array.ConvertAll(Normal(rng, channels), v => (float)v);
        var general = new float[images * channels * h * w];
        var wide = new float[general.Length];
        Array.Fill(general, float.NaN);
        Array.Fill(wide, float.NaN);
        var plane = new float[Winograd.PlaneLength(h, w)];
        Assert.True(Winograd.WideOutputFits(h, w, Winograd.TilesAlong(h)));
        fixed (float* pm = m, pg = general, pw = wide, pb = bias, pp = plane)
        {
            Winograd.TransformOutputChannels(pm, stride, tiles, pg, images, channels, first, count, h, w, pb, gelu, pp, wide: false);
            Winograd.TransformOutputWide(pm, stride, tiles, pw, images, channels, first, count, h, w, pb, gelu, 0, Winograd.TilesAlong(h));
        }
        for (int i = 0; i < general.Length; i++)
            Assert.True(general[i].Equals(wide[i]), $"element {i}: {general[i]} vs {wide[i]}");
    }

    // A 12x8 map's slabs of 2 and 4 tile rows at every start, GELU on; odd counts do not fit.
    [Fact]
    public unsafe void EveryOutputSlabIsTheGeneralPathsBits()
    {
        const int h = 12, w = 8, channels = 3;
        var rng = Rng.Derive(44, 12);
        int down = Winograd.TilesAlong(h), across = Winograd.TilesAlong(w);
        var bias = Array.ConvertAll(Normal(rng, channels), v => (float)v);
        for (int first = 0; first < down; first++)
        for (int count = 1; first + count <= down; count++)
        {
            Assert.Equal(count % 2 == 0, Winograd.WideOutputFits(h, w, count));
            if (count % 2 != 0) continue;
            int tiles = count * across;
            long stride = Winograd.PositionStride(channels, tiles);
            var m = Array.ConvertAll(Normal(rng, (int)(Winograd.Positions * stride)), v => (float)v);
            var general = new float[channels * h * w];
            var wide = new float[general.Length];
            Array.Fill(general, float.NaN);
            Array.Fill(wide, float.NaN);
            fixed (float* pm = m, pg = general, pw = wide, pb = bias)
            {
                Winograd.TransformOutputRows(pm, stride, tiles, pg, channels, h, w, first, count, pb, gelu: true, wide: false);
                Winograd.TransformOutputWide(pm, stride, tiles, pw, 1, channels, 0, channels, h, w, pb, gelu: true, first, count);
            }
            for (int i = 0; i < general.Length; i++)
                Assert.True(general[i].Equals(wide[i]), $"slab {first}+{count}, element {i}: {general[i]} vs {wide[i]}");
        }
    }

    private static void AssertTilesEqual(float[] general, float[] wide, long stride, int channels, int tiles)
    {
        for (int e = 0; e < Winograd.Positions; e++)
        for (int c = 0; c < channels; c++)
        for (int t = 0; t < tiles; t++)
        {
            long i = e * stride + (long)c * tiles + t;
            Assert.True(general[i].Equals(wide[i]), $"position {e}, channel {c}, tile {t}: {general[i]} vs {wide[i]}");
        }
    }
}
