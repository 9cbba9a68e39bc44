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
    private readonly Activation _z1 = new(), _u1 = new(), _a1 = new(), _z2 = new(), _u2 = new(), _a2 = new(), _y = new();
    private Tensor? _x;
    private bool _training;

    public ResidualConvBlock(ParameterStore store, string name, int inChannels, int outChannels, bool isRes)
    {
        In = inChannels; Out = outChannels; IsRes = isRes;
        _conv1 = new Conv2d(store, name + ".conv1.0", inChannels, outChannels, 3);
        _bn1 = new BatchNorm2d(store, name + ".conv1.1", outChannels);
        _conv2 = new Conv2d(store, name + ".conv2.0", outChannels, outChannels, 3);
        _bn2 = new BatchNorm2d(store, name + ".conv2.1", outChannels);
        if (isRes && inChannels != outChannels) _shortcut = new Conv2d(store, name + ".shortcut", inChannels, outChannels, 1);
    }

    public int In { get; }
    public int Out { get; }
    public bool IsRes { get; }

    public Tensor Forward(Tensor x, bool training)
    {
        _x = x;
        _training = training;
        int b = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
        var z1 = _z1.Get(b, Out, h, w); var u1 = _u1.Get(b, Out, h, w); var a1 = _a1.Get(b, Out, h, w);
        var z2 = _z2.Get(b, Out, h, w); var u2 = _u2.Get(b, Out, h, w); var a2 = _a2.Get(b, Out, h, w);
        _conv1.Forward(x, z1);
        _bn1.Forward(z1, u1, training);
        Activations.GeluForward(u1, a1);
        _conv2.Forward(a1, z2);
        _bn2.Forward(z2, u2, training);
        Activations.GeluForward(u2, a2);
        if (!IsRes) return a2;
        var y = _y.Get(b, Out, h, w);
        if (_shortcut is null) TensorOps.Residual(x, a2, y);
        else
        {
            _shortcut.Forward(x, y);
            TensorOps.Residual(y, a2, y);
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
        var z1 = _z1.Current; var u1 = _u1.Current; var a1 = _a1.Current; var z2 = _z2.Current; var u2 = _u2.Current;
        if (IsRes) ScaleInPlace(gy, 1f / TensorOps.ResidualDivisor);
        if (_shortcut is not null && gx is not null)
        {
            _shortcut.Backward(x, gy, gx, accumulate);
            accumulate = true;
        }
        else if (_shortcut is not null) _shortcut.Backward(x, gy, null);

        Activations.GeluBackward(u2, gy, u2);          // u2 now holds d loss / d u2
        _bn2.Backward(z2, u2, z2, _training);            // z2 now holds d loss / d z2
        _conv2.Backward(a1, z2, a1);                     // a1 now holds d loss / d a1
        Activations.GeluBackward(u1, a1, u1);
        _bn1.Backward(z1, u1, z1, _training);
        if (IsRes && _shortcut is null && gx is not null)
        {
            // Identity shortcut: gx = conv1's input gradient + gy / 1.414 (gy already scaled).
            _conv1.Backward(x, z1, gx, accumulate);
            AddInPlace(gx, gy);
        }
        else _conv1.Backward(x, z1, gx, accumulate);
    }

    private static unsafe void ScaleInPlace(Tensor t, float s)
    {
        float* p = t.Data;
        for (int i = 0; i < t.Length; i++) p[i] *= s;
    }

    private static unsafe void AddInPlace(Tensor dst, Tensor src)
    {
        float* d = dst.Data, s = src.Data;
        for (int i = 0; i < dst.Length; i++) d[i] += s[i];
    }
}
