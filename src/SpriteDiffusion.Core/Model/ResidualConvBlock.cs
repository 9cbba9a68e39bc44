using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Model;

/// <summary>
/// [Conv3x3, BatchNorm, GELU] twice; with is_res, the result is averaged with the input (or its
/// 1x1 projection) as (shortcut + h) / 1.414. Backward writes gradients into the storage of the
/// activations it has finished with, so training needs no gradient buffers of its own.
/// </summary>
public sealed class ResidualConvBlock
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly Conv2d? _shortcut;
    private readonly Activation _z1 = new(), _a1 = new(), _z2 = new(), _a2 = new(), _y = new(), _skipGrad = new();
    private readonly Activation _xHalves = new();
    private Tensor? _x;
    private bool _training;
    private Conv2d.Frozen? _frozen1, _frozen2, _frozenShortcut;

    /// <summary>
    /// Registers the layers under <paramref name="name"/>: conv1.0, conv1.1 (BatchNorm), conv2.0,
    /// conv2.1 and, for a residual block whose channel count changes, a 1x1 <c>shortcut</c>. The 3x3 convolutions pad as <paramref name="padding"/> says.
    /// </summary>
    public ResidualConvBlock(ParameterStore store, string name, int inChannels, int outChannels, bool isRes, PaddingMode padding = PaddingMode.Zeros)
    {
        In = inChannels; Out = outChannels; IsRes = isRes;
        _conv1 = new Conv2d(store, name + ".conv1.0", inChannels, outChannels, 3) { Padding = padding };
        _bn1 = new BatchNorm2d(store, name + ".conv1.1", outChannels);
        _conv2 = new Conv2d(store, name + ".conv2.0", outChannels, outChannels, 3) { Padding = padding };
        _bn2 = new BatchNorm2d(store, name + ".conv2.1", outChannels);
        if (isRes && inChannels != outChannels) _shortcut = new Conv2d(store, name + ".shortcut", inChannels, outChannels, 1);
    }

    /// <summary>Input channels.</summary>
    public int In { get; }
    /// <summary>Output channels.</summary>
    public int Out { get; }
    /// <summary>Whether the output is the residual average (shortcut + h) / 1.414 rather than h alone.</summary>
    public bool IsRes { get; }

    /// <summary>
    /// The block's output for x (N x In x H x W): N x Out x H x W, in storage the block owns and reuses.
    /// x is kept for <see cref="Backward"/> and must not change before it. In training, BatchNorm uses
    /// the batch's statistics and moves its running ones.
    /// </summary>
    public Tensor Forward(Tensor x, bool training)
    {
        if (_frozen1 is not null) return FrozenForward(x, training);
        _x = x;
        _training = training;
        int b = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
        var z1 = _z1.Get(b, Out, h, w); var a1 = _a1.Get(b, Out, h, w);
        var z2 = _z2.Get(b, Out, h, w); var a2 = _a2.Get(b, Out, h, w);
        _conv1.Forward(x, z1);
        BatchNormGelu.Forward(_bn1, z1, a1, training);
        _conv2.Forward(a1, z2);
        BatchNormGelu.Forward(_bn2, z2, a2, training);
        return WithShortcut(x, a2, frozen: false);
    }

    // The residual average (shortcut + h) / 1.414, through the frozen or the live 1x1 projection.
    private Tensor WithShortcut(Tensor x, Tensor a2, bool frozen)
    {
        if (!IsRes) return a2;
        var y = _y.Get(a2.Dim(0), Out, a2.Dim(2), a2.Dim(3));
        if (_shortcut is null) TensorOps.Residual(x, a2, y);
        else
        {
            if (frozen) _frozenShortcut!.Forward(x, y);
            else _shortcut.Forward(x, y);
            TensorOps.Residual(y, a2, y);
        }
        return y;
    }

    /// <summary>
    /// Snapshots the block for eval-mode forward passes (each convolution with its BatchNorm folded
    /// in and GELU fused, as Conv2d.Freeze makes them) until <paramref name="frozen"/> is false again.
    /// </summary>
    internal void SetFrozen(bool frozen)
    {
        _frozen1 = frozen ? _conv1.Freeze(_bn1, gelu: true) : null;
        _frozen2 = frozen ? _conv2.Freeze(_bn2, gelu: true) : null;
        _frozenShortcut = frozen ? _shortcut?.Freeze() : null;
    }

    private Tensor FrozenForward(Tensor x, bool training)
    {
        if (training) throw new InvalidOperationException("a training forward pass through a frozen block: dispose the model's inference scope first");
        _x = null; // nothing is kept to differentiate
        int b = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
        var a1 = _a1.Get(b, Out, h, w); var a2 = _a2.Get(b, Out, h, w);
        _frozen1!.Forward(x, a1);
        _frozen2!.Forward(a1, a2);
        return WithShortcut(x, a2, frozen: true);
    }

    /// <summary>
    /// Whether <see cref="FrozenForwardHalves"/> can run: frozen, both convolutions able to run in
    /// halves, or only the second where the input comes whole.
    /// </summary>
    internal bool RunsHalves(bool wholeInput) =>
        _frozen1 is not null && _frozen2 is not null && (wholeInput ? _frozen1.RunsHalvesFromWhole : _frozen1.RunsHalves) && _frozen2.RunsHalves;

    /// <summary>
    /// The frozen block's output for one image in halves of rows (HalfRows), [2][Out][h/2][w], from
    /// x in halves or, for the model's first block, whole ([1][In][h][w]), which its first
    /// convolution (direct, over the few input channels) reads whole. Same bits as the frozen
    /// forward pass on the whole map (F(2x2)).
    /// </summary>
    internal Tensor FrozenForwardHalves(Tensor x)
    {
        if (_frozen1 is null || _frozen2 is null) throw new InvalidOperationException("a forward pass in halves of rows needs the frozen block (the model's inference scope)");
        _x = null; // nothing is kept to differentiate
        bool whole = x.Dim(0) == 1;
        int h = whole ? x.Dim(2) : 2 * x.Dim(2), w = x.Dim(3);
        var a2 = _a2.Get(2, Out, h / 2, w);
        var a1 = _a1.Get(2, Out, h / 2, w);
        _frozen1.ForwardHalves(x, a1);
        _frozen2.ForwardHalves(a1, a2);
        if (!IsRes) return a2;
        var y = _y.Get(2, Out, h / 2, w);
        if (_shortcut is not null)
        {
            // A 1x1 projection: each half from the same rows of x, whole or in halves.
            if (whole) _frozenShortcut!.ForwardHalves(x, y);
            else _frozenShortcut!.Forward(x, y);
            HalfRows.Residual(y, a2, y);
        }
        else
        {
            var xh = x;
            if (whole) HalfRows.Split(x, xh = _xHalves.Get(2, In, h / 2, w));
            HalfRows.Residual(xh, a2, y);
        }
        return y;
    }

    /// <summary>
    /// gy is consumed (overwritten). gx may share storage with the forward input unless the block
    /// has a projection shortcut; accumulate adds into gx instead of overwriting it.
    /// </summary>
    public void Backward(Tensor gy, Tensor? gx, bool accumulate)
    {
        var x = _x ?? throw new InvalidOperationException("backward before forward");
        var z1 = _z1.Current; var a1 = _a1.Current; var z2 = _z2.Current;
        if (IsRes) TensorOps.ResidualBackward(gy);
        if (_shortcut is not null && gx is not null)
        {
            _shortcut.Backward(x, gy, gx, accumulate);
            accumulate = true;
        }
        else if (_shortcut is not null) _shortcut.Backward(x, gy, null);
        Tensor? skip = null;
        if (IsRes && _shortcut is null && gx is not null)
        {
            // The fused backward below overwrites gy, and the identity path still needs it.
            skip = _skipGrad.Get(gy.Dim(0), gy.Dim(1), gy.Dim(2), gy.Dim(3));
            gy.Span.CopyTo(skip.Span);
        }

        BatchNormGelu.Backward(_bn2, z2, gy, z2, _training); // z2 now holds d loss / d z2
        _conv2.Backward(a1, z2, a1);                          // a1 now holds d loss / d a1
        BatchNormGelu.Backward(_bn1, z1, a1, z1, _training);
        _conv1.Backward(x, z1, gx, accumulate);
        if (skip is not null) TensorPrimitives.Add(gx!.Span, skip.Span, gx.Span); // identity shortcut: plus gy / 1.414
    }
}
