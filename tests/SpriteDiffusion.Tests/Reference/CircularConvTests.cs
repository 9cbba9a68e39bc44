using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Tests.Reference;

/// <summary>Circular padding (sample --tileable) in both convolution algorithms, forward and backward.</summary>
public class CircularConvTests
{
    [Theory]
    [InlineData("conv3x3_circular", ConvAlgorithm.Im2Col)]
    [InlineData("conv3x3_circular", ConvAlgorithm.Winograd)]
    [InlineData("conv3x3_circular_wide", ConvAlgorithm.Im2Col)]
    [InlineData("conv3x3_circular_wide", ConvAlgorithm.Winograd)]
    [InlineData("conv3x3_circular_odd_wide", ConvAlgorithm.Im2Col)]
    [InlineData("conv3x3_circular_odd_wide", ConvAlgorithm.Winograd)]
    [InlineData("conv3x3_circular_odd_wide", ConvAlgorithm.Auto)]
    public void MatchesPyTorchPaddingModeCircular(string name, ConvAlgorithm algorithm)
    {
        var f = Fixture.Load("ops/" + name);
        Assert.Equal("circular", f.Metadata["padding_mode"]);
        var w = f["weight"];
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", w.Shape[1], w.Shape[0], 3) { Padding = PaddingMode.Circular, Algorithm = algorithm };
        store.Allocate(new Rng(1));
        f.CopyInto("weight", conv.Weight.Value);
        f.CopyInto("bias", conv.Bias.Value);
        var x = f.Tensor("x");
        var y = Tensor.Zeros(f["y"].Shape);
        conv.Forward(x, y);
        f.AssertClose("y", y);
        var gx = Tensor.Zeros(x.Shape);
        gx.Span.Fill(float.NaN);
        conv.Backward(x, f.Tensor("gy"), gx);
        f.AssertClose("gx", gx);
        f.AssertClose("gweight", conv.Weight.Grad!);
        f.AssertClose("gbias", conv.Bias.Grad!);
    }

    /// <summary>The image with a one-pixel border copied from the opposite edges, by hand.</summary>
    private static Tensor Wrap(Tensor x)
    {
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var wrapped = Tensor.Zeros([n, c, h + 2, w + 2]);
        var src = x.Span;
        var dst = wrapped.Span;
        for (int plane = 0; plane < n * c; plane++)
            for (int i = 0; i < h + 2; i++)
                for (int j = 0; j < w + 2; j++)
                    dst[(plane * (h + 2) + i) * (w + 2) + j] = src[(plane * h + (i - 1 + h) % h) * w + (j - 1 + w) % w];
        return wrapped;
    }

    [Theory]
    [InlineData(ConvAlgorithm.Im2Col, 3, 5, 7, 6)]
    [InlineData(ConvAlgorithm.Winograd, 16, 16, 8, 8)]
    [InlineData(ConvAlgorithm.Winograd, 17, 20, 5, 7)]
    [InlineData(ConvAlgorithm.Im2Col, 17, 20, 5, 7)]
    public void EqualsAZeroPaddedConvolutionOfTheImageWrappedByHand(ConvAlgorithm algorithm, int inC, int outC, int h, int w)
    {
        var store = new ParameterStore();
        var circular = new Conv2d(store, "a", inC, outC, 3) { Padding = PaddingMode.Circular, Algorithm = algorithm };
        var plain = new Conv2d(store, "b", inC, outC, 3) { Algorithm = algorithm };
        store.Allocate(new Rng(7));
        circular.Weight.Value.Span.CopyTo(plain.Weight.Value.Span);
        circular.Bias.Value.Span.CopyTo(plain.Bias.Value.Span);
        var x = Tensor.Zeros([2, inC, h, w]);
        new Rng(8).FillGaussian(x.Span);
        var y = Tensor.Zeros([2, outC, h, w]);
        circular.Forward(x, y);
        var wrapped = Wrap(x);
        var yWrapped = Tensor.Zeros([2, outC, h + 2, w + 2]);
        plain.Forward(wrapped, yWrapped);
        var gy = Tensor.Zeros(y.Shape);
        new Rng(9).FillGaussian(gy.Span);
        // The wrapped output's interior is the circular output; its gradient lives there only.
        var gyWrapped = Tensor.Zeros(yWrapped.Shape);
        var interior = new float[y.Span.Length];
        for (int plane = 0; plane < 2 * outC; plane++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    interior[(plane * h + i) * w + j] = yWrapped.Span[(plane * (h + 2) + i + 1) * (w + 2) + j + 1];
                    gyWrapped.Span[(plane * (h + 2) + i + 1) * (w + 2) + j + 1] = gy.Span[(plane * h + i) * w + j];
                }
        Fixture.AssertClose(interior, y.Span, "y");

        store.ZeroGrads();
        var gx = Tensor.Zeros(x.Shape);
        circular.Backward(x, gy, gx);
        var gxWrapped = Tensor.Zeros(wrapped.Shape);
        plain.Backward(wrapped, gyWrapped, gxWrapped);
        // Each border pixel is a copy of one image pixel, so its gradient folds back onto that pixel.
        var folded = new float[x.Span.Length];
        for (int plane = 0; plane < 2 * inC; plane++)
            for (int i = 0; i < h + 2; i++)
                for (int j = 0; j < w + 2; j++)
                    folded[(plane * h + (i - 1 + h) % h) * w + (j - 1 + w) % w] += gxWrapped.Span[(plane * (h + 2) + i) * (w + 2) + j];
        Fixture.AssertClose(folded, gx.Span, "gx");
        Fixture.AssertClose(plain.Weight.Grad!.Span, circular.Weight.Grad!.Span, "gweight");
        Fixture.AssertClose(plain.Bias.Grad!.Span, circular.Bias.Grad!.Span, "gbias");
    }
}
