using System.Diagnostics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Model;

/// <summary>
/// The seed's context U-Net noise predictor (SPEC section 2), forward and backward. Parameters sit
/// in one ParameterStore under their PyTorch state-dict names.
/// </summary>
public sealed class UNet
{
    private readonly ResidualConvBlock _initConv;
    private readonly UnetDown _down1, _down2;
    private readonly EmbedFC _timeEmbed1, _timeEmbed2, _contextEmbed1, _contextEmbed2;
    private readonly ConvTranspose2d _up0Conv;
    private readonly GroupNorm _up0Norm, _outNorm;
    private readonly UnetUp _up1, _up2;
    private readonly Conv2d _outConv1, _outConv2;

    private readonly Activation _pooled = new(), _vec = new(), _up0Z = new(), _up0N = new(), _up0R = new();
    private readonly Activation _m1 = new(), _m2 = new(), _cat = new(), _outZ = new(), _outN = new(), _outR = new(), _y = new();
    private readonly Activation _gInit = new(), _gD1 = new(), _gD2 = new(), _gM = new(), _gVec = new(), _gPooled = new();
    private readonly Activation _gScale = new(), _gShift = new(), _gScale2 = new(), _gShift2 = new();
    private readonly Activation _gEmbedInput = new(), _gEmbedInput2 = new(), _gFromVec = new();
    private readonly Activation _catHalves = new(), _outZHalves = new();
    private Tensor? _xInit, _d1, _d2, _c1, _t1, _c2, _t2, _u1, _u2, _u3;
    private bool _training;
    private InferenceScope? _scope;
    private Conv2d.Frozen? _frozenOut1, _frozenOut2;

    /// <summary>
    /// A network of <paramref name="config"/>'s shape with weights drawn as PyTorch initialises them,
    /// from <paramref name="seed"/>. Throws <see cref="ArgumentOutOfRangeException"/> for an invalid configuration.
    /// </summary>
    public UNet(UNetConfig config, ulong seed = 0)
    {
        config.Validate();
        Config = config;
        int nf = config.NFeat, s = config.Height / 4;
        Store = new ParameterStore();
        var padding = config.Padding;
        _initConv = new ResidualConvBlock(Store, "init_conv", config.InChannels, nf, isRes: true, padding);
        _down1 = new UnetDown(Store, "down1", nf, nf, padding);
        _down2 = new UnetDown(Store, "down2", nf, 2 * nf, padding);
        _timeEmbed1 = new EmbedFC(Store, "timeembed1", 1, 2 * nf);
        _timeEmbed2 = new EmbedFC(Store, "timeembed2", 1, nf);
        _contextEmbed1 = new EmbedFC(Store, "contextembed1", config.NCFeat, 2 * nf);
        _contextEmbed2 = new EmbedFC(Store, "contextembed2", config.NCFeat, nf);
        _up0Conv = new ConvTranspose2d(Store, "up0.0", 2 * nf, 2 * nf, s);
        _up0Norm = new GroupNorm(Store, "up0.1", 8, 2 * nf);
        _up1 = new UnetUp(Store, "up1", 4 * nf, nf, padding);
        _up2 = new UnetUp(Store, "up2", 2 * nf, nf, padding);
        _outConv1 = new Conv2d(Store, "out.0", 2 * nf, nf, 3) { Padding = padding };
        _outNorm = new GroupNorm(Store, "out.1", 8, nf);
        _outConv2 = new Conv2d(Store, "out.3", nf, config.InChannels, 3) { Padding = padding };
        Store.Allocate(new Rng(seed));
    }

    /// <summary>The network's shape: channels, width, classes and image size.</summary>
    public UNetConfig Config { get; }
    /// <summary>Every parameter, running statistic and counter under its PyTorch state-dict name; checkpoints load into and save from it.</summary>
    public ParameterStore Store { get; }

    /// <summary>
    /// Starts an inference scope: until it is disposed, eval-mode forward passes run on a snapshot
    /// of the weights taken now, with every BatchNorm folded into the convolution before it, GELU
    /// fused into that convolution's output, and the Winograd-transformed weights computed once.
    /// Results equal the ordinary eval-mode pass up to float32 rounding. The contract: do not change
    /// the parameters (train, load a checkpoint) while the scope is open, since the snapshot would
    /// not see it; training forward passes and backward passes throw inside it. A sampling loop
    /// takes the scope for its run and disposes it at the end. Inside an open scope, Freeze returns
    /// a scope whose disposal leaves the outer one open.
    /// </summary>
    public InferenceScope Freeze()
    {
        if (_scope is not null) return new InferenceScope(null);
        _initConv.SetFrozen(true);
        _down1.SetFrozen(true);
        _down2.SetFrozen(true);
        _up1.SetFrozen(true);
        _up2.SetFrozen(true);
        _frozenOut1 = _outConv1.Freeze();
        _frozenOut2 = _outConv2.Freeze();
        int h = Config.Height;
        _halvesPossible = Config.Padding == PaddingMode.Zeros && h % 8 == 0 && _initConv.RunsHalves(wholeInput: true)
            && _down1.RunsHalves && _up2.RunsHalves(h / 2, h / 2) && _frozenOut1.RunsHalves;
        return _scope = new InferenceScope(this);
    }

    /// <summary>
    /// Whether a frozen pass over a batch of one holds the large maps in halves of rows (HalfRows),
    /// one per thread. Null (the default): on two threads where F(2x2) is the batch-1 choice
    /// (AVX-512; on AVX2 F(4x4) split by channels beat F(2x2) in halves at n_feat 64, 889 against
    /// 810 img/s, and neither won clearly at 32). Tests force it either way; forced on, it runs on
    /// any thread count, with the same bits as whole maps on F(2x2). Only where every layer on the
    /// large maps can run in halves: zero padding, a height that is a multiple of 8 whose
    /// up-sampling product fills 16-column panels (16 and 32, not 24), n_feat of 16 and more,
    /// packed panels (AVX-512 or AVX2, not the scalar cap).
    /// </summary>
    internal bool? HalfRowsOverride { get; set; }

    private bool _halvesPossible;

    // Halves won with the cores far apart and close alike (n_feat 64, Zen 5 VM: 500 ns, 1195 ->
    // 1377 img/s; 230 ns, 1759 -> 1864), so they are not timed against whole maps as the layers'
    // splits are: doing so (exploring whole maps every 16th pass) cost 2-3%.
    internal bool RunsHalves(int batch)
    {
        if (_scope is null || batch != 1 || !_halvesPossible) return false;
        return HalfRowsOverride ?? (Workers.Threads == 2 && !Conv2d.Frozen.AutoPicksF4(1, Config.Height, Config.Height));
    }

    /// <summary>
    /// The threads the last forward pass ran on: <see cref="Workers.Threads"/>, or 1 where a frozen
    /// pass over a batch of one on two threads without AVX-512 ran on one, having timed one against
    /// two (both give the same bits).
    /// </summary>
    public int LastPassThreads { get; private set; }

    /// <summary>Whether an inference scope (<see cref="Freeze"/>) is open.</summary>
    public bool IsFrozen => _scope is not null;

    internal void EndScope(InferenceScope scope)
    {
        if (!ReferenceEquals(scope, _scope)) return;
        _initConv.SetFrozen(false);
        _down1.SetFrozen(false);
        _down2.SetFrozen(false);
        _up1.SetFrozen(false);
        _up2.SetFrozen(false);
        _frozenOut1 = _frozenOut2 = null;
        _scope = null;
    }

    /// <summary>x: (B, C, H, H); t: (B, 1); c: (B, n_cfeat). Returns the predicted noise, (B, C, H, H).</summary>
    public Tensor Forward(Tensor x, Tensor t, Tensor c, bool training)
    {
        CheckInputs(x, t, c);
        if (training && _scope is not null)
            throw new InvalidOperationException("a training forward pass inside an inference scope (UNet.Freeze): dispose the scope first.");
        _training = training;
        LastPassThreads = Workers.Threads;
        if (!ChoosesThreads(x.Dim(0))) return ForwardPass(x, t, c, training);
        bool serial = SerialOverride ?? _threadsChooser.Next() == 1;
        if (serial) LastPassThreads = 1;
        long start = Stopwatch.GetTimestamp();
        Tensor y;
        using (serial ? Workers.Serial() : default)
            y = ForwardPass(x, t, c, training);
        if (SerialOverride is null) _threadsChooser.Record(serial ? 1 : 0, Stopwatch.GetTimestamp() - start);
        return y;
    }

    // A frozen pass over a batch of one on two threads without AVX-512 computes the same bits on
    // one thread (the same tiles both ways, F(4x4) on the 16x16 maps and F(2x2) on the smaller,
    // and each output one chain whatever the split), and one thread was the faster with the cores
    // far apart (n_feat 32, AVX-512 turned off on Zen 5, cores 450-525 ns apart: 2430 img/s on
    // one, 2140 on two), two with them close (about 3000 against 2430). So the passes time both
    // and take the faster as a rule (SplitChooser, by typical times: two threads' fastest passes
    // came close to one thread's, 0.39 against 0.38 ms, their median did not, 0.44 against 0.40),
    // trying the other in runs of 4 passes every 64th (256th where it is a tenth slower): the first
    // pass after a switch costs up to twice a pass (the other core's caches, a sleeping worker
    // woken) and is not timed. Where halves of rows or F(2x2) run on two threads the choice would
    // change the bits, and there is none.
    private readonly SplitChooser _threadsChooser = new(exploreEvery: 64, run: 4, typicalTimes: true);

    internal bool ChoosesThreads(int batch) =>
        _scope is not null && batch == 1 && Workers.Threads == 2 && !RunsHalves(batch)
        && Conv2d.Frozen.AutoPicksF4(1, Config.Height, Config.Height);

    /// <summary>Forces a batch-of-one frozen pass onto one thread (true) or two (false) where the model would choose by timing (tests).</summary>
    internal bool? SerialOverride { get; set; }

    private Tensor ForwardPass(Tensor x, Tensor t, Tensor c, bool training)
    {
        int b = x.Dim(0), nf = Config.NFeat, h = Config.Height, q = h / 4;
        bool halves = RunsHalves(b);
        _xInit = halves ? _initConv.FrozenForwardHalves(x) : _initConv.Forward(x, training);
        _d1 = halves ? _down1.FrozenForwardHalves(_xInit) : _down1.Forward(_xInit, training);
        _d2 = _down2.Forward(_d1, training);

        var pooled = _pooled.Get(b, 2 * nf, 1, 1);
        Pooling.AvgPoolForward(_d2, pooled, q);
        var vec = _vec.Get(b, 2 * nf, 1, 1);
        Activations.GeluForward(pooled, vec);

        _c1 = _contextEmbed1.Forward(c);
        _t1 = _timeEmbed1.Forward(t);
        _c2 = _contextEmbed2.Forward(c);
        _t2 = _timeEmbed2.Forward(t);

        var z0 = _up0Z.Get(b, 2 * nf, q, q); var n0 = _up0N.Get(b, 2 * nf, q, q); var u1 = _up0R.Get(b, 2 * nf, q, q);
        _up0Conv.Forward(vec, z0);
        _up0Norm.Forward(z0, n0);
        Activations.ReluForward(n0, u1);
        _u1 = u1;

        var m1 = _m1.Get(b, 2 * nf, q, q);
        TensorOps.ScaleShift(u1, _c1, _t1, m1);
        _u2 = _up1.Forward(m1, _d2, training);
        var m2 = _m2.Get(b, nf, 2 * q, 2 * q);
        TensorOps.ScaleShift(_u2, _c2, _t2, m2);
        _u3 = halves ? _up2.FrozenForwardHalves(m2, _d1) : _up2.Forward(m2, _d1, training);

        var z = _outZ.Get(b, nf, h, h); var n = _outN.Get(b, nf, h, h); var r = _outR.Get(b, nf, h, h);
        if (halves)
        {
            // The group norm's statistics take the whole map: the halves end at out.0.
            var catHalves = _catHalves.Get(2, 2 * nf, h / 2, h);
            HalfRows.ConcatChannels(_u3, _xInit, catHalves);
            var zHalves = _outZHalves.Get(2, nf, h / 2, h);
            _frozenOut1!.ForwardHalves(catHalves, zHalves);
            HalfRows.Join(zHalves, z);
        }
        else
        {
            var cat = _cat.Get(b, 2 * nf, h, h);
            TensorOps.ConcatChannels(_u3, _xInit, cat);
            if (_frozenOut1 is not null) _frozenOut1.Forward(cat, z); else _outConv1.Forward(cat, z);
        }
        _outNorm.Forward(z, n);
        Activations.ReluForward(n, r);
        var y = _y.Get(b, Config.InChannels, h, h);
        if (_frozenOut2 is not null) _frozenOut2.Forward(r, y); else _outConv2.Forward(r, y);
        return y;
    }

    /// <summary>
    /// Adds every parameter's gradient of sum(gy * output) into the store's gradients. The input
    /// gradients are written only when their tensors are given (training needs none of them).
    /// Consumes the stored activations: call once per Forward.
    /// </summary>
    public void Backward(Tensor gy, Tensor? gx = null, Tensor? gt = null, Tensor? gc = null)
    {
        if (_xInit is null) throw new InvalidOperationException("backward before forward");
        if (_scope is not null) throw new InvalidOperationException("a backward pass inside an inference scope (UNet.Freeze): the frozen forward pass keeps nothing to differentiate.");
        int b = gy.Dim(0), nf = Config.NFeat, h = Config.Height, q = h / 4;
        var cat = _cat.Current; var z = _outZ.Current; var n = _outN.Current; var r = _outR.Current;

        _outConv2.Backward(r, gy, r);
        Activations.ReluBackward(n, r, r); // r now holds a gradient; n > 0 exactly where r > 0
        _outNorm.Backward(z, r, z);
        _outConv1.Backward(cat, z, cat);
        var gU3 = _u3!; // up2's output is no longer needed: its storage takes its gradient
        var gInit = _gInit.Get(b, nf, h, h);
        TensorOps.ConcatChannelsBackward(cat, gU3, gInit, accumulateA: false, accumulateB: false);

        var gM2 = _gM.Get(b, nf, 2 * q, 2 * q);
        var gD1 = _gD1.Get(b, nf, 2 * q, 2 * q);
        _up2.Backward(gU3, gM2, gD1, accumulateSkip: false);
        var gS2 = _gScale2.Get(b, nf); var gT2 = _gShift2.Get(b, nf);
        var gU2 = _u2!;
        TensorOps.ScaleShiftBackward(_u2!, _c2!, gM2, gU2, gS2, gT2);

        var gM1 = _m1.Current; // m1 was copied into up1's concatenation; its storage takes its gradient
        var gD2 = _gD2.Get(b, 2 * nf, q, q);
        _up1.Backward(gU2, gM1, gD2, accumulateSkip: false);
        var gS1 = _gScale.Get(b, 2 * nf); var gT1 = _gShift.Get(b, 2 * nf);
        var u1 = _u1!;
        TensorOps.ScaleShiftBackward(u1, _c1!, gM1, gM1, gS1, gT1);

        var gc1 = gc is null ? null : _gEmbedInput.Get(b, Config.NCFeat);
        _contextEmbed1.Backward(gS1, gc);
        _contextEmbed2.Backward(gS2, gc1);
        if (gc is not null) TensorPrimitives.Add(gc.Span, gc1!.Span, gc.Span);
        var gt1 = gt is null ? null : _gEmbedInput2.Get(b, 1);
        _timeEmbed1.Backward(gT1, gt);
        _timeEmbed2.Backward(gT2, gt1);
        if (gt is not null) TensorPrimitives.Add(gt.Span, gt1!.Span, gt.Span);

        Activations.ReluBackward(u1, gM1, gM1);
        var z0 = _up0Z.Current;
        _up0Norm.Backward(z0, gM1, z0);
        var gVec = _gVec.Get(b, 2 * nf, 1, 1);
        _up0Conv.Backward(_vec.Current, z0, gVec);
        var gPooled = _gPooled.Get(b, 2 * nf, 1, 1);
        Activations.GeluBackward(_pooled.Current, gVec, gPooled);
        var gFromVec = _gFromVec.Get(b, 2 * nf, q, q);
        Pooling.AvgPoolBackward(gPooled, gFromVec, q);
        TensorPrimitives.Add(gD2.Span, gFromVec!.Span, gD2.Span);

        _down2.Backward(gD2, gD1, accumulate: true);
        _down1.Backward(gD1, gInit, accumulate: true);
        _initConv.Backward(gInit, gx, accumulate: false);
    }

    private void CheckInputs(Tensor x, Tensor t, Tensor c)
    {
        var cfg = Config;
        if (x.Shape.Length != 4 || x.Dim(1) != cfg.InChannels || x.Dim(2) != cfg.Height || x.Dim(3) != cfg.Height)
            throw new ArgumentException($"the model takes images of shape (B, {cfg.InChannels}, {cfg.Height}, {cfg.Height}); got [{string.Join(", ", x.Shape)}].", nameof(x));
        int b = x.Dim(0);
        if (t.Length != b) throw new ArgumentException($"the time input must hold one value per image ({b}); got {t.Length}.", nameof(t));
        if (c.Length != b * cfg.NCFeat) throw new ArgumentException($"the context input must be (B, {cfg.NCFeat}); got [{string.Join(", ", c.Shape)}].", nameof(c));
    }
}

/// <summary>
/// An open inference scope of a <see cref="UNet"/> (<see cref="UNet.Freeze"/>): disposing it drops
/// the weight snapshot, and the model computes from its live parameters again.
/// </summary>
public sealed class InferenceScope : IDisposable
{
    private UNet? _owner;

    internal InferenceScope(UNet? owner) => _owner = owner;

    /// <summary>Ends the scope (once; later calls do nothing). A nested scope's disposal leaves the outer one open.</summary>
    public void Dispose()
    {
        _owner?.EndScope(this);
        _owner = null;
    }
}
