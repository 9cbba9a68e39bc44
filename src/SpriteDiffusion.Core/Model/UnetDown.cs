using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Model;

/// <summary>[ResidualConvBlock(in, out), ResidualConvBlock(out, out), MaxPool2d(2)].</summary>
public sealed class UnetDown
{
    private readonly ResidualConvBlock _block0, _block1;
    private readonly Activation _y = new(), _pooledHalves = new();
    private Tensor? _h0, _h1;

    /// <summary>Registers the two blocks as <c>name.model.0</c> (in to out channels) and <c>name.model.1</c>, their convolutions padded as <paramref name="padding"/> says.</summary>
    public UnetDown(ParameterStore store, string name, int inChannels, int outChannels, PaddingMode padding = PaddingMode.Zeros)
    {
        Out = outChannels;
        _block0 = new ResidualConvBlock(store, name + ".model.0", inChannels, outChannels, isRes: false, padding);
        _block1 = new ResidualConvBlock(store, name + ".model.1", outChannels, outChannels, isRes: false, padding);
    }

    /// <summary>Output channels.</summary>
    public int Out { get; }

    /// <summary>
    /// N x Out x H/2 x W/2 for x of N x in x H x W, in storage the block owns and reuses; the
    /// activations stay for <see cref="Backward"/>.
    /// </summary>
    public Tensor Forward(Tensor x, bool training)
    {
        _h0 = _block0.Forward(x, training);
        _h1 = _block1.Forward(_h0, training);
        var y = _y.Get(x.Dim(0), Out, x.Dim(2) / 2, x.Dim(3) / 2);
        Pooling.MaxPool2Forward(_h1, y);
        return y;
    }

    /// <summary>
    /// The frozen forward pass of one image held in halves of rows (HalfRows); returns the pooled
    /// map whole ([1][Out][h/2][w/2]), for the layers below, whose maps are too small to split by rows.
    /// </summary>
    internal Tensor FrozenForwardHalves(Tensor x)
    {
        var h1 = _block1.FrozenForwardHalves(_block0.FrozenForwardHalves(x));
        int c = h1.Dim(1), h = h1.Dim(2), w = h1.Dim(3);
        var pooled = _pooledHalves.Get(2, c, h / 2, w / 2);
        HalfRows.MaxPool2(h1, pooled);
        var y = _y.Get(1, c, h, w / 2);
        HalfRows.Join(pooled, y);
        _h0 = _h1 = null;
        return y;
    }

    /// <summary>Whether the frozen blocks can run on an input in halves of rows.</summary>
    internal bool RunsHalves => _block0.RunsHalves(wholeInput: false) && _block1.RunsHalves(wholeInput: false);

    internal void SetFrozen(bool frozen)
    {
        _block0.SetFrozen(frozen);
        _block1.SetFrozen(frozen);
    }

    /// <summary>Stored activations are overwritten by their gradients as backward passes them.</summary>
    public void Backward(Tensor gy, Tensor? gx, bool accumulate)
    {
        var h0 = _h0 ?? throw new InvalidOperationException("backward before forward");
        var h1 = _h1!;
        Pooling.MaxPool2Backward(h1, gy, h1);
        _block1.Backward(h1, h0, accumulate: false);
        _block0.Backward(h0, gx, accumulate);
    }
}
