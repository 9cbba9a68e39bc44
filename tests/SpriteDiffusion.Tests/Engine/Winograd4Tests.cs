using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using Xunit.Abstractions;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.Engine;

/// <summary>
/// The frozen convolution's Winograd F(4x4, 3x3) against a float64 direct convolution (and F(2x2)
/// beside it, for its error), on shapes that reach the partly used last tiles of sizes that are not
/// multiples of 4, circular padding, batches, and channel counts that are not multiples of 8; then
/// the transforms' vector widths against the scalar path, bit for bit.
/// </summary>
public class Winograd4Tests(ITestOutputHelper output)
{
    /// <summary>max |y - ref| / max |ref| of a frozen convolution with the given tiles, ref in float64.</summary>
    private static double FrozenError(WinogradTiles tiles, int batch, int cin, int cout, int h, int w, bool circular, bool gelu, int seed)
    {
        var rng = Rng.Derive((ulong)seed, (ulong)(h * 1000 + w));
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", cin, cout, 3)
        {
            Algorithm = ConvAlgorithm.Winograd,
            Padding = circular ? PaddingMode.Circular : PaddingMode.Zeros,
        };
        store.Allocate(new Rng((ulong)seed));
        // Inputs like the U-Net's: GELU outputs, mostly positive with a non-zero mean.
        var xs = Normal(rng, batch * cin * h * w);
        for (int i = 0; i < xs.Length; i++) xs[i] = Activations.Gelu((float)xs[i]);
        var x = ToTensor(xs, batch, cin, h, w);
        var y = Poisoned(batch, cout, h, w);
        var frozen = conv.Freeze(gelu: gelu);
        frozen.Tiles = tiles;
        frozen.Forward(x, y);
        var reference = Direct(xs, conv.Weight.Value.Span.ToArray(), conv.Bias.Value.Span.ToArray(), batch, cin, cout, h, w, circular);
        double worst = 0, scale = 0;
        var actual = y.Span;
        for (int i = 0; i < reference.Length; i++)
        {
            double r = gelu ? GeluExact(reference[i]) : reference[i];
            double d = Math.Abs(actual[i] - r);
            worst = Math.Max(worst, double.IsNaN(d) ? double.PositiveInfinity : d);
            scale = Math.Max(scale, Math.Abs(r));
        }
        return worst / scale;
    }

    private static double GeluExact(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    // Abramowitz-Stegun 7.1.26 is too coarse for a 1e-6 check; this series and continued fraction are not.
    private static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 3)
        {
            double sum = 0, term = ax;
            for (int n = 0; n < 80; n++)
            {
                sum += term / (2 * n + 1);
                term *= -ax * ax / (n + 1);
            }
            return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
        }
        double f = 0;
        for (int n = 60; n >= 1; n--) f = n / 2.0 / (ax + f);
        return Math.Sign(x) * (1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f));
    }

    /// <summary>The 3x3 "same" cross-correlation in float64, zeros or the opposite edge beyond the borders.</summary>
    private static double[] Direct(double[] x, float[] weight, float[] bias, int batch, int cin, int cout, int h, int w, bool circular)
    {
        var y = new double[batch * cout * h * w];
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < cout; o++)
        for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++)
        {
            double s = bias[o];
            for (int c = 0; c < cin; c++)
            for (int ki = 0; ki < 3; ki++)
            for (int kj = 0; kj < 3; kj++)
            {
                int r = i + ki - 1, q = j + kj - 1;
                if (circular) { r = (r + h) % h; q = (q + w) % w; }
                else if ((uint)r >= (uint)h || (uint)q >= (uint)w) continue;
                s += (double)weight[((o * cin + c) * 3 + ki) * 3 + kj] * x[((b * cin + c) * h + r) * w + q];
            }
            y[((b * cout + o) * h + i) * w + j] = s;
        }
        return y;
    }

    // 16x16 and 32x20: whole tiles (the widest vectors, then narrower ones); 17x23, 13x9, 5x7:
    // partly used last tiles, odd sizes; 4x4 and 8x8: one tile row or two, all scalar tails.
    [Theory]
    [InlineData(1, 16, 17, 16, 16, false, false)]
    [InlineData(3, 19, 13, 16, 16, true, true)]
    [InlineData(2, 16, 16, 17, 23, false, true)]
    [InlineData(2, 24, 20, 13, 9, true, false)]
    [InlineData(1, 16, 3, 16, 16, false, false)]
    [InlineData(5, 33, 32, 32, 20, false, true)]
    [InlineData(2, 16, 18, 8, 8, true, false)]
    [InlineData(1, 17, 16, 4, 4, false, false)]
    [InlineData(3, 16, 16, 5, 7, true, true)]
    public void F4MatchesAFloat64DirectConvolution(int batch, int cin, int cout, int h, int w, bool circular, bool gelu)
    {
        double f4 = FrozenError(WinogradTiles.F4x4, batch, cin, cout, h, w, circular, gelu, seed: 11);
        double f2 = FrozenError(WinogradTiles.F2x2, batch, cin, cout, h, w, circular, gelu, seed: 11);
        output.WriteLine($"{batch}x{cin}->{cout} {h}x{w} circular={circular} gelu={gelu}: F(2x2) {f2:E2}, F(4x4) {f4:E2}");
        Assert.True(f4 <= 5e-6, $"F(4x4): max |diff| / max |ref| = {f4:E3}");
        Assert.True(f2 <= 1e-6, $"F(2x2): max |diff| / max |ref| = {f2:E3}");
    }

    /// <summary>The error table at the U-Net's channel counts (batch 2, zero padding, no GELU).</summary>
    [Theory]
    [InlineData(32, 32, 16)]
    [InlineData(64, 64, 16)]
    [InlineData(128, 64, 16)]
    [InlineData(64, 128, 8)]
    [InlineData(128, 128, 8)]
    public void ErrorAtTheModelsChannelCounts(int cin, int cout, int size)
    {
        double f4 = FrozenError(WinogradTiles.F4x4, 2, cin, cout, size, size, false, false, seed: 5);
        double f2 = FrozenError(WinogradTiles.F2x2, 2, cin, cout, size, size, false, false, seed: 5);
        output.WriteLine($"| {cin} -> {cout} | {size}x{size} | {f2:E2} | {f4:E2} |");
        Assert.True(f4 <= 5e-6, $"F(4x4): max |diff| / max |ref| = {f4:E3}");
        Assert.True(f2 <= 1e-6, $"F(2x2): max |diff| / max |ref| = {f2:E3}");
    }

    /// <summary>
    /// Auto takes F(4x4) on maps of 16x16 and more when each thread has 2 images or more, or for a
    /// batch of one on a single thread, or on two without AVX-512 (where the products decide), else F(2x2).
    /// </summary>
    [Theory]
    [InlineData(4, 16, 16)]
    [InlineData(16, 20, 17)]
    [InlineData(1, 16, 16)]
    [InlineData(2, 16, 16)]
    [InlineData(4, 8, 8)]
    [InlineData(4, 15, 16)]
    public void AutoPicksF4ForLargeMapsAndBatches(int batch, int h, int w)
    {
        bool f4 = h >= 16 && w >= 16 && ((batch + Workers.Threads - 1) / Workers.Threads >= 2 || batch == 1 && (Workers.Threads == 1 || Workers.Threads == 2 && !Sgemm.HasAvx512));
        float[] Run(WinogradTiles tiles)
        {
            var rng = Rng.Derive(9, (ulong)(h * 1000 + w));
            var store = new ParameterStore();
            var conv = new Conv2d(store, "conv", 24, 16, 3);
            store.Allocate(new Rng(9));
            var y = Poisoned(batch, 16, h, w);
            var frozen = conv.Freeze(gelu: true);
            frozen.Tiles = tiles;
            frozen.Forward(ToTensor(Normal(rng, batch * 24 * h * w), batch, 24, h, w), y);
            return y.Span.ToArray();
        }
        var auto = Run(WinogradTiles.Auto);
        var f4Output = Run(WinogradTiles.F4x4);
        var f2Output = Run(WinogradTiles.F2x2);
        Assert.NotEqual(f4Output, f2Output);
        Assert.Equal(f4 ? f4Output : f2Output, auto);
    }

    // 16x16: one Vector512 (or two Vector256 rows) per plane; 24x40: 6 tile rows (4 + 2) of 10 tiles
    // (4 + 4 + 2 left to the scalar path); 9x13: 3 x 4 tiles, partly used.
    [Theory]
    [InlineData(16, 16, false)]
    [InlineData(24, 40, true)]
    [InlineData(9, 13, true)]
    public unsafe void VectorWidthsGiveTheScalarBits(int h, int w, bool circular)
    {
        const int images = 2, channels = 5;
        var rng = Rng.Derive(3, (ulong)(h * 100 + w));
        int tiles = images * Winograd4.TilesAlong(h) * Winograd4.TilesAlong(w);
        long stride = Winograd.PositionStride(channels, tiles), length = Winograd4.Positions * stride;
        var x = Array.ConvertAll(Normal(rng, images * channels * h * w), v => (float)v);
        var m = Array.ConvertAll(Normal(rng, (int)length), v => (float)v);
        var bias = Array.ConvertAll(Normal(rng, channels), v => (float)v);
        var plane = new float[Winograd4.PlaneLength(h, w)];
        float[]? scalarV = null, scalarY = null;
        foreach (int lanes in new[] { 1, 4, 8, 16 })
        {
            var v = new float[length];
            var y = new float[images * channels * h * w];
            Array.Fill(v, float.NaN);
            Array.Fill(y, float.NaN);
            fixed (float* px = x, pv = v, pm = m, py = y, pb = bias, pp = plane)
            {
                Winograd4.TransformInput(px, images, channels, h, w, pv, tiles, pp, circular, lanes);
                Winograd4.TransformOutputChannels(pm, stride, tiles, py, images, channels, 0, channels, h, w, pb, gelu: false, pp, lanes);
            }
            // Only the channel rows are written: the gaps between positions stay as they were.
            var written = Enumerable.Range(0, Winograd4.Positions)
                .SelectMany(e => v.Skip((int)(e * stride)).Take(channels * tiles)).ToArray();
            Assert.All(written, f => Assert.False(float.IsNaN(f)));
            Assert.All(y, f => Assert.False(float.IsNaN(f)));
            scalarV ??= written;
            scalarY ??= y;
            Assert.Equal(scalarV, written);
            Assert.Equal(scalarY, y);
        }
    }
}
