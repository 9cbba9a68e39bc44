using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using Xunit.Abstractions;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>
/// GELU, ReLU, MaxPool2, AvgPool(k), channel concatenation, the broadcast scale-shift, the residual
/// average and the MSE loss. Where a backward documents that its output may share storage with
/// an input, that sharing is exercised too.
/// </summary>
public class PointwiseGradientTests(ITestOutputHelper output) : GradientCheckTests(output)
{
    private static (int B, int C, int H, int W) DrawShape(Rng rng) => (Draw(rng, 1, 4), Draw(rng, 1, 9), Draw(rng, 1, 9), Draw(rng, 1, 9));

    [Theory, MemberData(nameof(Seeds))]
    public void Gelu(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 700);
        var (b, c, h, w) = DrawShape(rng);
        string what = $"GELU seed {seed} x[{b},{c},{h},{w}]";
        var x = Normal(rng, b * c * h * w, 2);
        var gy = Normal(rng, x.Length);
        var gx = Pointwise64.GeluBackward(x, gy);
        double fd = FiniteDifference(what, [("x", x)], () => Pointwise64.Gelu(x), gy, [gx], rng);

        var xt = ToTensor(x, b, c, h, w);
        var y = Poisoned(b, c, h, w);
        Activations.GeluForward(xt, y);
        var gxt = Poisoned(b, c, h, w);
        Activations.GeluBackward(xt, ToTensor(gy, b, c, h, w), gxt);
        var inPlace = ToTensor(gy, b, c, h, w);
        Activations.GeluBackward(xt, inPlace, inPlace);
        Report(what, fd,
            AssertClose(what + " y", y.Span, Pointwise64.Gelu(x)),
            AssertClose(what + " gx", gxt.Span, gx),
            AssertClose(what + " gx written over gy", inPlace.Span, gx));
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Relu(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 800);
        var (b, c, h, w) = DrawShape(rng);
        string what = $"ReLU seed {seed} x[{b},{c},{h},{w}]";
        // Kept 1e-3 from the kink, far beyond the finite-difference step.
        var x = AwayFromZero(rng, b * c * h * w, 1e-3);
        x[0] = Math.Abs(x[0]);
        var gy = Normal(rng, x.Length);
        var gx = Pointwise64.ReluBackward(x, gy);
        double fd = FiniteDifference(what, [("x", x)], () => Pointwise64.Relu(x), gy, [gx], rng);

        var xt = ToTensor(x, b, c, h, w);
        var y = Poisoned(b, c, h, w);
        Activations.ReluForward(xt, y);
        var gxt = Poisoned(b, c, h, w);
        Activations.ReluBackward(y, ToTensor(gy, b, c, h, w), gxt);
        var inPlace = ToTensor(gy, b, c, h, w);
        Activations.ReluBackward(y, inPlace, inPlace);
        Report(what, fd,
            AssertClose(what + " y", y.Span, Pointwise64.Relu(x)),
            AssertClose(what + " gx", gxt.Span, gx),
            AssertClose(what + " gx written over gy", inPlace.Span, gx));
    }

    [Theory, MemberData(nameof(Seeds))]
    public void MaxPool2(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 900);
        int b = Draw(rng, 1, 4), c = Draw(rng, 1, 9), h = 2 * Draw(rng, 1, 4), w = 2 * Draw(rng, 1, 4);
        string what = $"MaxPool2 seed {seed} x[{b},{c},{h},{w}]";
        var x = WithoutNearTies(rng, b * c, h, w);
        var gy = Normal(rng, b * c * h / 2 * w / 2);
        var gx = Pointwise64.MaxPool2Backward(x, gy, b * c, h, w);
        double fd = FiniteDifference(what, [("x", x)], () => Pointwise64.MaxPool2(x, b * c, h, w), gy, [gx], rng);

        var xt = ToTensor(x, b, c, h, w);
        var y = Poisoned(b, c, h / 2, w / 2);
        Pooling.MaxPool2Forward(xt, y);
        var gyt = ToTensor(gy, b, c, h / 2, w / 2);
        var gxt = Poisoned(b, c, h, w);
        Pooling.MaxPool2Backward(xt, gyt, gxt);
        var inPlace = ToTensor(x, b, c, h, w);
        Pooling.MaxPool2Backward(inPlace, gyt, inPlace);
        Report(what, fd,
            AssertClose(what + " y", y.Span, Pointwise64.MaxPool2(x, b * c, h, w)),
            AssertClose(what + " gx", gxt.Span, gx),
            AssertClose(what + " gx written over x", inPlace.Span, gx));
    }

    /// <summary>
    /// Normal values whose 2x2 windows have their largest two values at least 1e-3 apart, so the
    /// maximum cannot change hands within a finite-difference step (or a float32 rounding).
    /// </summary>
    private static double[] WithoutNearTies(Rng rng, int planes, int h, int w)
    {
        var x = Normal(rng, planes * h * w);
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < h; i += 2)
        for (int j = 0; j < w; j += 2)
        {
            int[] window = [(p * h + i) * w + j, (p * h + i) * w + j + 1, (p * h + i + 1) * w + j, (p * h + i + 1) * w + j + 1];
            while (true)
            {
                var sorted = window.Select(at => x[at]).OrderDescending().ToArray();
                if (sorted[0] - sorted[1] >= 1e-3) break;
                foreach (int at in window) x[at] = (float)rng.NextGaussian();
            }
        }
        return x;
    }

    [Theory, MemberData(nameof(Seeds))]
    public void AvgPool(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 1000);
        int k = Draw(rng, 1, 4), b = Draw(rng, 1, 4), c = Draw(rng, 1, 9);
        int h = k * Draw(rng, 1, 9 / k), w = k * Draw(rng, 1, 9 / k);
        string what = $"AvgPool{k} seed {seed} x[{b},{c},{h},{w}]";
        var x = Normal(rng, b * c * h * w);
        var gy = Normal(rng, b * c * (h / k) * (w / k));
        var gx = Pointwise64.AvgPoolBackward(gy, b * c, h, w, k);
        double fd = FiniteDifference(what, [("x", x)], () => Pointwise64.AvgPool(x, b * c, h, w, k), gy, [gx], rng);

        var y = Poisoned(b, c, h / k, w / k);
        Pooling.AvgPoolForward(ToTensor(x, b, c, h, w), y, k);
        var gxt = Poisoned(b, c, h, w);
        Pooling.AvgPoolBackward(ToTensor(gy, b, c, h / k, w / k), gxt, k);
        Report(what, fd,
            AssertClose(what + " y", y.Span, Pointwise64.AvgPool(x, b * c, h, w, k)),
            AssertClose(what + " gx", gxt.Span, gx));
    }

    [Theory, MemberData(nameof(Seeds))]
    public void ConcatChannels(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 1100);
        int b = Draw(rng, 1, 4), ca = Draw(rng, 1, 9), cb = Draw(rng, 1, 9), h = Draw(rng, 1, 9), w = Draw(rng, 1, 9);
        string what = $"ConcatChannels seed {seed} [{b},{ca}+{cb},{h},{w}]";
        var a = Normal(rng, b * ca * h * w);
        var bb = Normal(rng, b * cb * h * w);
        var gy = Normal(rng, a.Length + bb.Length);
        var (ga, gb) = Pointwise64.ConcatBackward(gy, b, ca, cb, h * w);
        double fd = FiniteDifference(what, [("a", a), ("b", bb)], () => Pointwise64.Concat(a, bb, b, ca, cb, h * w), gy, [ga, gb], rng);

        var y = Poisoned(b, ca + cb, h, w);
        TensorOps.ConcatChannels(ToTensor(a, b, ca, h, w), ToTensor(bb, b, cb, h, w), y);
        var errors = new List<double> { AssertClose(what + " y", y.Span, Pointwise64.Concat(a, bb, b, ca, cb, h * w)) };

        // Each accumulate flag in each state across the two calls.
        var gyt = ToTensor(gy, b, ca + cb, h, w);
        var priorA = Normal(rng, a.Length);
        var priorB = Normal(rng, bb.Length);
        var gat = Poisoned(b, ca, h, w);
        var gbt = ToTensor(priorB, b, cb, h, w);
        TensorOps.ConcatChannelsBackward(gyt, gat, gbt, accumulateA: false, accumulateB: true);
        errors.Add(AssertClose(what + " ga (written)", gat.Span, ga));
        errors.Add(AssertAdded(what + " gb (added)", gbt.Span, ToFloats(priorB), gb));
        gat = ToTensor(priorA, b, ca, h, w);
        gbt = Poisoned(b, cb, h, w);
        TensorOps.ConcatChannelsBackward(gyt, gat, gbt, accumulateA: true, accumulateB: false);
        errors.Add(AssertAdded(what + " ga (added)", gat.Span, ToFloats(priorA), ga));
        errors.Add(AssertClose(what + " gb (written)", gbt.Span, gb));
        Report(what, fd, [.. errors]);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void ScaleShift(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 1200);
        var (b, c, h, w) = DrawShape(rng);
        string what = $"ScaleShift seed {seed} x[{b},{c},{h},{w}]";
        var x = Normal(rng, b * c * h * w);
        var scale = Normal(rng, b * c);
        var shift = Normal(rng, b * c);
        var gy = Normal(rng, x.Length);
        var (gx, gs, gt) = Pointwise64.ScaleShiftBackward(x, scale, gy, b * c, h * w);
        double fd = FiniteDifference(what, [("x", x), ("scale", scale), ("shift", shift)],
            () => Pointwise64.ScaleShift(x, scale, shift, b * c, h * w), gy, [gx, gs, gt], rng);

        var xt = ToTensor(x, b, c, h, w);
        var st = ToTensor(scale, b, c);
        var y = Poisoned(b, c, h, w);
        TensorOps.ScaleShift(xt, st, ToTensor(shift, b, c), y);
        var errors = new List<double> { AssertClose(what + " y", y.Span, Pointwise64.ScaleShift(x, scale, shift, b * c, h * w)) };
        var gxt = Poisoned(b, c, h, w);
        var gst = Poisoned(b, c);
        var gtt = Poisoned(b, c);
        TensorOps.ScaleShiftBackward(xt, st, ToTensor(gy, b, c, h, w), gxt, gst, gtt);
        errors.Add(AssertClose(what + " gx", gxt.Span, gx));
        errors.Add(AssertClose(what + " gscale", gst.Span, gs));
        errors.Add(AssertClose(what + " gshift", gtt.Span, gt));

        // The U-Net writes this gradient over gy in one place and over x in another.
        var overGy = ToTensor(gy, b, c, h, w);
        TensorOps.ScaleShiftBackward(xt, st, overGy, overGy, Poisoned(b, c), Poisoned(b, c));
        errors.Add(AssertClose(what + " gx written over gy", overGy.Span, gx));
        var overX = ToTensor(x, b, c, h, w);
        gst = Poisoned(b, c);
        TensorOps.ScaleShiftBackward(overX, st, ToTensor(gy, b, c, h, w), overX, gst, Poisoned(b, c));
        errors.Add(AssertClose(what + " gx written over x", overX.Span, gx));
        errors.Add(AssertClose(what + " gscale with gx over x", gst.Span, gs));
        Report(what, fd, [.. errors]);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Residual(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 1300);
        var (b, c, h, w) = DrawShape(rng);
        string what = $"Residual seed {seed} [{b},{c},{h},{w}]";
        var a = Normal(rng, b * c * h * w);
        var bb = Normal(rng, a.Length);
        var gy = Normal(rng, a.Length);
        var g = Pointwise64.ResidualBackward(gy);
        double fd = FiniteDifference(what, [("a", a), ("b", bb)], () => Pointwise64.Residual(a, bb), gy, [g, g], rng);

        var y = Poisoned(b, c, h, w);
        TensorOps.Residual(ToTensor(a, b, c, h, w), ToTensor(bb, b, c, h, w), y);
        var inPlace = ToTensor(gy, b, c, h, w);
        TensorOps.ResidualBackward(inPlace);
        Report(what, fd,
            AssertClose(what + " y", y.Span, Pointwise64.Residual(a, bb)),
            AssertClose(what + " ga = gb, written over gy", inPlace.Span, g));
    }

    [Theory, MemberData(nameof(Seeds))]
    public void MseLoss(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 1400);
        var (b, c, h, w) = DrawShape(rng);
        string what = $"MseLoss seed {seed} [{b},{c},{h},{w}]";
        var pred = Normal(rng, b * c * h * w);
        var target = Normal(rng, pred.Length);
        double gLoss = Normal(rng, 1)[0];
        var (gp, gt) = Pointwise64.MseBackward(pred, target, gLoss);
        double fd = FiniteDifference(what, [("pred", pred), ("target", target)], () => Pointwise64.Mse(pred, target), [gLoss], [gp, gt], rng);

        var grad = new float[pred.Length];
        Array.Fill(grad, float.NaN);
        double loss = TensorOps.MseLoss(ToFloats(pred), ToFloats(target), grad);
        double lossWithoutGrad = TensorOps.MseLoss(ToFloats(pred), ToFloats(target), []);
        double expectedLoss = Pointwise64.Mse(pred, target)[0];
        Assert.Equal(loss, lossWithoutGrad);
        Report(what, fd,
            AssertClose(what + " loss", [(float)loss], [expectedLoss]),
            AssertClose(what + " gpred", grad, Pointwise64.MseBackward(pred, target, 1).Gpred));
    }
}
