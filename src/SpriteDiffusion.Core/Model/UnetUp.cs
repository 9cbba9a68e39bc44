using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Model;

/// <summary>cat([x, skip]) then [ConvTranspose2d(in, out, 2, 2), ResidualConvBlock(out, out) x 2].</summary>
public sealed class UnetUp
{
    private readonly ConvTranspose2d _up;
    private readonly ResidualConvBlock _block0, _block1;
    private readonly Activation _cat = new(), _z = new(), _zHalves = new();
    private Tensor? _h0;
    private ConvTranspose2d.Frozen? _frozenUp;

    /// <summary>
    /// Registers the transposed convolution as <c>name.model.0</c> and the two blocks as <c>name.model.1</c>
    /// and <c>name.model.2</c>, their convolutions padded as <paramref name="padding"/> says (the
    /// transposed convolution, stride 2 with a 2x2 kernel, reads no padding).
    /// </summary>
    public UnetUp(ParameterStore store, string name, int inChannels, int outChannels, PaddingMode padding = PaddingMode.Zeros)
    {
        In = inChannels; Out = outChannels;
        _up = new ConvTranspose2d(store, name + ".model.0", inChannels, outChannels, 2);
        _block0 = new ResidualConvBlock(store, name + ".model.1", outChannels, outChannels, isRes: false, padding);
        _block1 = new ResidualConvBlock(store, name + ".model.2", outChannels, outChannels, isRes: false, padding);
    }

    /// <summary>The channels of x and skip together: the transposed convolution's input.</summary>
    public int In { get; }
    /// <summary>Output channels.</summary>
    public int Out { get; }

    /// <summary>
    /// Concatenates x and skip (N x <see cref="In"/> x H x W together), up-samples to
    /// N x <see cref="Out"/> x 2H x 2W and refines it; the result is in storage the block owns and reuses.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor skip, bool training)
    {
        int b = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
        var cat = _cat.Get(b, x.Dim(1) + skip.Dim(1), h, w);
        TensorOps.ConcatChannels(x, skip, cat);
        var z = _z.Get(b, Out, 2 * h, 2 * w);
        if (_frozenUp is not null) _frozenUp.Forward(cat, z); else _up.Forward(cat, z);
        _h0 = _block0.Forward(z, training);
        return _block1.Forward(_h0, training);
    }

    /// <summary>
    /// The frozen forward pass with its output in halves of rows (HalfRows), [2][Out][h][2w] for
    /// whole inputs of h x w: the transposed convolution writes each half from half of the input's
    /// rows, and the blocks run in halves.
    /// </summary>
    internal Tensor FrozenForwardHalves(Tensor x, Tensor skip)
    {
        if (_frozenUp is null) throw new InvalidOperationException("a forward pass in halves of rows needs the frozen block (the model's inference scope)");
        int h = x.Dim(2), w = x.Dim(3);
        var cat = _cat.Get(1, x.Dim(1) + skip.Dim(1), h, w);
        TensorOps.ConcatChannels(x, skip, cat);
        var z = _zHalves.Get(2, Out, h, 2 * w);
        _frozenUp.ForwardHalves(cat, z);
        _h0 = null; // nothing is kept to differentiate, as in UnetDown
        return _block1.FrozenForwardHalves(_block0.FrozenForwardHalves(z));
    }

    /// <summary>Whether <see cref="FrozenForwardHalves"/> can run on inputs of h x w.</summary>
    internal bool RunsHalves(int h, int w) =>
        _frozenUp is not null && _frozenUp.RunsHalves(h, w) && _block0.RunsHalves(wholeInput: false) && _block1.RunsHalves(wholeInput: false);

    internal void SetFrozen(bool frozen)
    {
        _frozenUp = frozen ? _up.Freeze() : null;
        _block0.SetFrozen(frozen);
        _block1.SetFrozen(frozen);
    }

    /// <summary>gy is consumed; writes the gradient of x into gx and adds (or writes) that of skip into gskip.</summary>
    public void Backward(Tensor gy, Tensor gx, Tensor gskip, bool accumulateSkip)
    {
        var z = _z.Current; var cat = _cat.Current;
        _block1.Backward(gy, _h0!, accumulate: false);
        _block0.Backward(_h0!, z, accumulate: false);
        _up.Backward(cat, z, cat);
        TensorOps.ConcatChannelsBackward(cat, gx, gskip, accumulateA: false, accumulateB: accumulateSkip);
    }
}
