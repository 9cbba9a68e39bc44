using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Tests.Engine;

/// <summary>
/// The frozen transposed convolution (W^T on packed panels where the products fit, the snapshot's
/// weights through the live layer's paths elsewhere) against the live layer, bit for bit, and
/// as a snapshot: later changes to the live weights do not reach it.
/// </summary>
public class ConvTransposeFrozenTests
{
    // 4x4 and 8x8 inputs (16- and 64-column products), an odd 3x3 one (the GEMM), a 1x1 one (the
    // expansion's path), a 3x3 kernel (no panels), 3 output channels (12 rows: no panels).
    [Theory]
    [InlineData(24, 20, 2, 4, 1)]
    [InlineData(16, 32, 2, 8, 3)]
    [InlineData(24, 20, 2, 3, 2)]
    [InlineData(24, 20, 4, 1, 2)]
    [InlineData(8, 16, 3, 4, 1)]
    [InlineData(16, 3, 2, 4, 2)]
    public void FrozenForwardIsTheLiveLayersBits(int inChannels, int outChannels, int kernel, int size, int batch)
    {
        var store = new ParameterStore();
        var conv = new ConvTranspose2d(store, "up", inChannels, outChannels, kernel);
        store.Allocate(new Rng(11));
        var rng = new Rng(12);
        var x = Tensor.Zeros(batch, inChannels, size, size);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        int outSize = size * kernel;
        var expected = Tensor.Zeros(batch, outChannels, outSize, outSize);
        conv.Forward(x, expected);
        var frozen = conv.Freeze();
        // The snapshot keeps the weights it was taken with.
        conv.Weight.Value.Span.Fill(float.NaN);
        conv.Bias.Value.Span.Fill(float.NaN);
        var y = Tensor.Zeros(batch, outChannels, outSize, outSize);
        y.Span.Fill(float.NaN);
        frozen.Forward(x, y);
        for (int i = 0; i < y.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected.Span[i]) == BitConverter.SingleToInt32Bits(y.Span[i]),
                $"element {i} is {y.Span[i]}, the live layer's {expected.Span[i]}");
    }
}
