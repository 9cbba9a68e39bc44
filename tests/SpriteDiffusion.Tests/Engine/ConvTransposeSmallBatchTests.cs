using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Tests.Engine;

/// <summary>
/// A batch of one or a few images takes other paths through ConvTranspose2d's forward pass (the
/// threads split W's columns, or each image's output channels); each image's output must be the
/// bits it gets inside a large batch, so sampling one sprite equals sampling it among many.
/// </summary>
public class ConvTransposeSmallBatchTests
{
    [Theory]
    [InlineData(1, 4)]   // the bottleneck's 1x1 -> 4x4 expansion
    [InlineData(4, 2)]   // the 2x2 up-sampling
    [InlineData(3, 2)]   // an odd size
    public void FewImagesGiveTheBitsOfALargeBatch(int size, int kernel)
    {
        var store = new ParameterStore();
        var conv = new ConvTranspose2d(store, "up", 24, 20, kernel);
        store.Allocate(new Rng(7));
        const int big = 16;
        var rng = new Rng(8);
        var x = Tensor.Zeros(big, 24, size, size);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        int outSize = size * kernel, perImageOut = 20 * outSize * outSize, perImageIn = 24 * size * size;
        var expected = Tensor.Zeros(big, 20, outSize, outSize);
        conv.Forward(x, expected);
        // The thread count is global and other tests run alongside, so this one takes it as it is
        // (two on the machines we test on, where both small-batch paths split the work).
        foreach (int batch in new[] { 1, 2, 5 })
        {
            var xs = Tensor.FromArray(x.Span[..(batch * perImageIn)], batch, 24, size, size);
            var y = Tensor.Zeros(batch, 20, outSize, outSize);
            y.Span.Fill(float.NaN);
            conv.Forward(xs, y);
            for (int i = 0; i < batch * perImageOut; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected.Span[i]) == BitConverter.SingleToInt32Bits(y.Span[i]),
                    $"batch {batch}: element {i} is {y.Span[i]}, in a batch of {big} {expected.Span[i]}");
        }
    }
}
