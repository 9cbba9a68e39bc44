using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;
using Xunit.Abstractions;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>
/// BatchNorm2d followed by GELU (the fused layer the U-Net runs) in training and evaluation mode,
/// and GroupNorm, with their affine parameters' gradients.
/// </summary>
public class NormGradientTests(ITestOutputHelper output) : GradientCheckTests(output)
{
    /// <summary>
    /// Normalising fewer than 3 values is degenerate: with 1 the output ignores x, with 2 it
    /// depends on x only through eps, so the input gradient is a ~1e-5 remainder of cancelling
    /// terms that no float32 kernel can reproduce relatively. Such draws are redrawn.
    /// </summary>
    private const int MinSetSize = 3;

    [Theory, MemberData(nameof(Seeds))]
    public void BatchNormTrain(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 400);
        int b, c, h, w;
        do { b = Draw(rng, 1, 4); c = Draw(rng, 1, 9); h = Draw(rng, 1, 9); w = Draw(rng, 1, 9); } while (b * h * w < MinSetSize);
        string what = $"BatchNorm2d+GELU train seed {seed} x[{b},{c},{h},{w}]";
        var (x, gamma, beta, gy) = NormInputs(rng, b, c, h * w);
        var runMean = Normal(rng, c, 0.5);
        var runVar = Uniform(rng, c, 0.5, 2);

        var expected = Norm64.BatchNormTrain(x, gamma, beta, b, c, h * w);
        var gBn = Pointwise64.GeluBackward(expected.Y, gy);
        var (gx, gg, gbeta) = Norm64.BatchNormTrainBackward(x, gamma, gBn, b, c, h * w);
        double fd = FiniteDifference(what, [("x", x), ("weight", gamma), ("bias", beta)],
            () => Pointwise64.Gelu(Norm64.BatchNormTrain(x, gamma, beta, b, c, h * w).Y), gy, [gx, gg, gbeta], rng);

        var (bn, store) = NewBatchNorm(c, gamma, beta, runMean, runVar);
        var gradsBefore = PrefillGrads(store, rng);
        var xt = ToTensor(x, b, c, h, w);
        var y = Poisoned(b, c, h, w);
        BatchNormGelu.Forward(bn, xt, y, training: true);
        double ey = AssertClose(what + " y", y.Span, Pointwise64.Gelu(expected.Y));
        // PyTorch's running statistics: momentum 0.1 toward the batch mean and the unbiased variance.
        double eMean = AssertClose(what + " running_mean", bn.RunningMean.Value.Span,
            runMean.Select((m, i) => 0.9 * m + 0.1 * expected.Mean[i]).ToArray());
        double eVar = AssertClose(what + " running_var", bn.RunningVar.Value.Span,
            runVar.Select((v, i) => 0.9 * v + 0.1 * expected.UnbiasedVar[i]).ToArray());
        Assert.Equal(1, bn.BatchesTracked.Count);

        var gxt = Poisoned(b, c, h, w);
        BatchNormGelu.Backward(bn, xt, ToTensor(gy, b, c, h, w), gxt, training: true);
        Report(what, fd, ey, eMean, eVar,
            AssertClose(what + " gx", gxt.Span, gx),
            AssertAdded(what + " gweight (added)", bn.Weight.Grad!.Span, gradsBefore[0], gg),
            AssertAdded(what + " gbias (added)", bn.Bias.Grad!.Span, gradsBefore[1], gbeta));
    }

    [Theory, MemberData(nameof(Seeds))]
    public void BatchNormEval(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 500);
        int b = Draw(rng, 1, 4), c = Draw(rng, 1, 9), h = Draw(rng, 1, 9), w = Draw(rng, 1, 9);
        string what = $"BatchNorm2d+GELU eval seed {seed} x[{b},{c},{h},{w}]";
        var (x, gamma, beta, gy) = NormInputs(rng, b, c, h * w);
        var runMean = Normal(rng, c, 0.5);
        var runVar = Uniform(rng, c, 0.3, 2);

        var normalised = Norm64.BatchNormEval(x, gamma, beta, runMean, runVar, b, c, h * w);
        var gBn = Pointwise64.GeluBackward(normalised, gy);
        var (gx, gg, gbeta) = Norm64.BatchNormEvalBackward(x, gamma, runMean, runVar, gBn, b, c, h * w);
        double fd = FiniteDifference(what, [("x", x), ("weight", gamma), ("bias", beta)],
            () => Pointwise64.Gelu(Norm64.BatchNormEval(x, gamma, beta, runMean, runVar, b, c, h * w)), gy, [gx, gg, gbeta], rng);

        var (bn, store) = NewBatchNorm(c, gamma, beta, runMean, runVar);
        var gradsBefore = PrefillGrads(store, rng);
        var xt = ToTensor(x, b, c, h, w);
        var y = Poisoned(b, c, h, w);
        BatchNormGelu.Forward(bn, xt, y, training: false);
        double ey = AssertClose(what + " y", y.Span, Pointwise64.Gelu(normalised));
        Assert.Equal(ToFloats(runMean), bn.RunningMean.Value.ToArray());
        Assert.Equal(ToFloats(runVar), bn.RunningVar.Value.ToArray());
        Assert.Equal(0, bn.BatchesTracked.Count);

        var gxt = Poisoned(b, c, h, w);
        BatchNormGelu.Backward(bn, xt, ToTensor(gy, b, c, h, w), gxt, training: false);
        Report(what, fd, ey,
            AssertClose(what + " gx", gxt.Span, gx),
            AssertAdded(what + " gweight (added)", bn.Weight.Grad!.Span, gradsBefore[0], gg),
            AssertAdded(what + " gbias (added)", bn.Bias.Grad!.Span, gradsBefore[1], gbeta));
    }

    [Theory, MemberData(nameof(Seeds))]
    public void GroupNorm(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 600);
        int b, c, groups, h, w;
        do
        {
            b = Draw(rng, 1, 4); c = Draw(rng, 1, 9); h = Draw(rng, 1, 9); w = Draw(rng, 1, 9);
            var divisors = Enumerable.Range(1, c).Where(d => c % d == 0).ToArray();
            groups = divisors[rng.NextInt(divisors.Length)];
        } while (c / groups * h * w < MinSetSize);
        string what = $"GroupNorm({groups}) seed {seed} x[{b},{c},{h},{w}]";
        var (x, gamma, beta, gy) = NormInputs(rng, b, c, h * w);

        var (gx, gg, gbeta) = Norm64.GroupNormBackward(x, gamma, gy, b, c, groups, h * w);
        double fd = FiniteDifference(what, [("x", x), ("weight", gamma), ("bias", beta)],
            () => Norm64.GroupNorm(x, gamma, beta, b, c, groups, h * w), gy, [gx, gg, gbeta], rng);

        var store = new ParameterStore();
        var gn = new GroupNorm(store, "gn", groups, c);
        store.Allocate(new Rng(1));
        Load(gn.Weight.Value, gamma);
        Load(gn.Bias.Value, beta);
        var gradsBefore = PrefillGrads(store, rng);
        var xt = ToTensor(x, b, c, h, w);
        var y = Poisoned(b, c, h, w);
        gn.Forward(xt, y);
        double ey = AssertClose(what + " y", y.Span, Norm64.GroupNorm(x, gamma, beta, b, c, groups, h * w));
        var gxt = Poisoned(b, c, h, w);
        gn.Backward(xt, ToTensor(gy, b, c, h, w), gxt);
        Report(what, fd, ey,
            AssertClose(what + " gx", gxt.Span, gx),
            AssertAdded(what + " gweight (added)", gn.Weight.Grad!.Span, gradsBefore[0], gg),
            AssertAdded(what + " gbias (added)", gn.Bias.Grad!.Span, gradsBefore[1], gbeta));
    }

    /// <summary>Per-channel offsets and spreads in x, and an affine far from the identity, so no term is trivial.</summary>
    private static (double[] X, double[] Gamma, double[] Beta, double[] Gy) NormInputs(Rng rng, int b, int c, int hw)
    {
        var offset = Normal(rng, c, 2);
        var spread = Uniform(rng, c, 0.3, 3);
        var x = Normal(rng, b * c * hw);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(offset[i / hw % c] + spread[i / hw % c] * x[i]);
        var gamma = Uniform(rng, c, -1.5, 1.5);
        var beta = Normal(rng, c);
        return (x, gamma, beta, Normal(rng, x.Length));
    }

    private static (BatchNorm2d Bn, ParameterStore Store) NewBatchNorm(int c, double[] gamma, double[] beta, double[] runMean, double[] runVar)
    {
        var store = new ParameterStore();
        var bn = new BatchNorm2d(store, "bn", c);
        store.Allocate(new Rng(1));
        Load(bn.Weight.Value, gamma);
        Load(bn.Bias.Value, beta);
        Load(bn.RunningMean.Value, runMean);
        Load(bn.RunningVar.Value, runVar);
        return (bn, store);
    }
}
