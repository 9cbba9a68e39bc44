using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>
/// Winograd against im2col (which the float64 checks already hold to 1e-5) where the random
/// shapes of LayerGradientTests do not reach: widths whose tile rows end in a 4-lane or scalar
/// tail after 8-lane blocks, a half-used tile inside a vector, several chunks per part. Then
/// what the U-Net relies on: bitwise repeatability, a forward pass independent of how images
/// are chunked, the input gradient written over the input itself, and an empty batch.
/// </summary>
public class WinogradTests
{
    private sealed record Result(float[] Y, float[] Gx, float[] Gw, float[] Gb);

    private static Result Run(ConvAlgorithm algorithm, int batch, int cin, int cout, int h, int w, bool inPlace = false)
    {
        var rng = Rng.Derive(7, (ulong)(h * 1000 + w));
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", cin, cout, 3) { Algorithm = algorithm };
        store.Allocate(new Rng(3));
        var x = ToTensor(Normal(rng, batch * cin * h * w), batch, cin, h, w);
        var gy = ToTensor(Normal(rng, batch * cout * h * w), batch, cout, h, w);
        var y = Poisoned(batch, cout, h, w);
        conv.Forward(x, y);
        var gx = inPlace ? x : Poisoned(batch, cin, h, w);
        conv.Backward(x, gy, gx);
        return new Result(y.Span.ToArray(), gx.Span.ToArray(), conv.Weight.Grad!.Span.ToArray(), conv.Bias.Grad!.Span.ToArray());
    }

    private static void AssertNear(string what, float[] actual, float[] expected)
    {
        double worst = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        Assert.True(worst <= 1e-5 * scale, $"{what}: max |winograd - im2col| = {worst:E3}, max |im2col| = {scale:E3}");
    }

    // Tiles across: 4 (4 lanes, last tile half used), 8 (8 lanes, half used), 9 (8 + 1), 13 (8 + 4 + 1),
    // 16, 12 (8 + 4), 1; 32x32 and 16x25 split a thread's images over several chunks.
    [Theory]
    [InlineData(7, 7)]
    [InlineData(9, 15)]
    [InlineData(15, 17)]
    [InlineData(16, 25)]
    [InlineData(32, 32)]
    [InlineData(5, 24)]
    [InlineData(17, 1)]
    public void MatchesIm2Col(int h, int w)
    {
        var winograd = Run(ConvAlgorithm.Winograd, 5, 16, 17, h, w);
        var im2col = Run(ConvAlgorithm.Im2Col, 5, 16, 17, h, w);
        AssertNear($"{h}x{w} y", winograd.Y, im2col.Y);
        AssertNear($"{h}x{w} gx", winograd.Gx, im2col.Gx);
        AssertNear($"{h}x{w} gweight", winograd.Gw, im2col.Gw);
        AssertNear($"{h}x{w} gbias", winograd.Gb, im2col.Gb);
    }

    [Fact]
    public void RepeatsBitForBit()
    {
        var first = Run(ConvAlgorithm.Winograd, 5, 16, 17, 16, 16);
        var second = Run(ConvAlgorithm.Winograd, 5, 16, 17, 16, 16);
        Assert.Equal(first.Y, second.Y);
        Assert.Equal(first.Gx, second.Gx);
        Assert.Equal(first.Gw, second.Gw);
        Assert.Equal(first.Gb, second.Gb);
    }

    // Every output is one chain over the input channels whatever the chunking, so a batch gives
    // each image exactly what it gets alone.
    [Fact]
    public void ForwardDoesNotDependOnChunking()
    {
        var whole = Run(ConvAlgorithm.Winograd, 5, 16, 17, 12, 10).Y;
        int perImage = 17 * 12 * 10;
        for (int b = 0; b < 5; b++)
        {
            var rng = Rng.Derive(7, 12 * 1000 + 10);
            var all = Normal(rng, 5 * 16 * 12 * 10);
            var store = new ParameterStore();
            var conv = new Conv2d(store, "conv", 16, 17, 3) { Algorithm = ConvAlgorithm.Winograd };
            store.Allocate(new Rng(3));
            var x = ToTensor(all[(b * 16 * 120)..((b + 1) * 16 * 120)], 1, 16, 12, 10);
            var y = Poisoned(1, 17, 12, 10);
            conv.Forward(x, y);
            Assert.Equal(whole[(b * perImage)..((b + 1) * perImage)], y.Span.ToArray());
        }
    }

    [Fact]
    public void InputGradientMayOverwriteTheInput()
    {
        var separate = Run(ConvAlgorithm.Winograd, 5, 16, 17, 16, 16);
        var inPlace = Run(ConvAlgorithm.Winograd, 5, 16, 17, 16, 16, inPlace: true);
        Assert.Equal(separate.Gx, inPlace.Gx);
        Assert.Equal(separate.Gw, inPlace.Gw);
    }

    [Fact]
    public void EmptyBatchAddsNothing()
    {
        // A real backward first, so that this thread's partial-sum scratch holds stale values.
        Run(ConvAlgorithm.Winograd, 2, 16, 16, 8, 8);
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", 16, 16, 3) { Algorithm = ConvAlgorithm.Winograd };
        store.Allocate(new Rng(3));
        var empty = Tensor.Zeros(0, 16, 8, 8);
        conv.Forward(empty, Tensor.Zeros(0, 16, 8, 8));
        conv.Backward(empty, Tensor.Zeros(0, 16, 8, 8), Tensor.Zeros(0, 16, 8, 8));
        Assert.All(conv.Weight.Grad!.Span.ToArray(), g => Assert.Equal(0f, g));
        Assert.All(conv.Bias.Grad!.Span.ToArray(), g => Assert.Equal(0f, g));
    }
}
