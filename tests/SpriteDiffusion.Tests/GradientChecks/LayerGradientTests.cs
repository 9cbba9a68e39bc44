using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;
using Xunit.Abstractions;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>Conv2d (3x3 and 1x1), ConvTranspose2d (kernel = stride) and Linear on random shapes.</summary>
public class LayerGradientTests(ITestOutputHelper output) : GradientCheckTests(output)
{
    [Theory, MemberData(nameof(Seeds))]
    public void Conv2d3x3(int seed) => CheckConv2d(seed, 3);

    [Theory, MemberData(nameof(Seeds))]
    public void Conv2d1x1(int seed) => CheckConv2d(seed, 1);

    // Conv2d3x3's shapes (Auto picks im2col below 16 channels) through Winograd, odd sizes
    // included (half-used tiles).
    [Theory, MemberData(nameof(Seeds))]
    public void Conv2d3x3Winograd(int seed) => CheckConv2d(seed, 3, ConvAlgorithm.Winograd);

    // The seed U-Net's sizes (16, 8, 4 and odd neighbours) with enough channels for Auto to pick
    // Winograd, so the 8- and 4-wide vector paths and the chunking over images run.
    [Theory, MemberData(nameof(Seeds))]
    public void Conv2d3x3Wide(int seed) => CheckConv2d(seed, 3, ConvAlgorithm.Auto, wide: true);

    private void CheckConv2d(int seed, int k, ConvAlgorithm algorithm = ConvAlgorithm.Auto, bool wide = false)
    {
        var rng = Rng.Derive((ulong)seed, (ulong)(100 + k + (wide ? 1000 : 0)));
        int[] sizes = [16, 8, 4, 15, 9, 6];
        int b = Draw(rng, 1, 4), cin = Draw(rng, 1, 9), cout = Draw(rng, 1, 9), h = Draw(rng, 1, 9), w = Draw(rng, 1, 9);
        if (wide) (b, cin, cout, h, w) = (Draw(rng, 1, 3), Draw(rng, 16, 24), Draw(rng, 16, 24), sizes[Draw(rng, 0, 5)], sizes[Draw(rng, 0, 5)]);
        string what = $"Conv2d {k}x{k} {algorithm} seed {seed} x[{b},{cin},{h},{w}] -> {cout}";
        double bound = 1 / Math.Sqrt(cin * k * k);
        var x = Normal(rng, b * cin * h * w);
        var weight = Uniform(rng, cout * cin * k * k, -bound, bound);
        var bias = Uniform(rng, cout, -bound, bound);
        var gy = Normal(rng, b * cout * h * w);

        var (gx, gw, gb) = Conv64.Conv2dBackward(x, weight, gy, b, cin, cout, h, w, k);
        double fd = FiniteDifference(what, [("x", x), ("weight", weight), ("bias", bias)],
            () => Conv64.Conv2d(x, weight, bias, b, cin, cout, h, w, k), gy, [gx, gw, gb], rng);

        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", cin, cout, k) { Algorithm = algorithm };
        store.Allocate(new Rng(1));
        Load(conv.Weight.Value, weight);
        Load(conv.Bias.Value, bias);
        var gradsBefore = PrefillGrads(store, rng);
        var xt = ToTensor(x, b, cin, h, w);
        var gyt = ToTensor(gy, b, cout, h, w);
        var y = Poisoned(b, cout, h, w);
        conv.Forward(xt, y);
        var errors = new List<double> { AssertClose(what + " y", y.Span, Conv64.Conv2d(x, weight, bias, b, cin, cout, h, w, k)) };

        var gxt = Poisoned(b, cin, h, w);
        conv.Backward(xt, gyt, gxt);
        errors.Add(AssertClose(what + " gx", gxt.Span, gx));
        errors.Add(AssertAdded(what + " gweight (added)", conv.Weight.Grad!.Span, gradsBefore[0], gw));
        errors.Add(AssertAdded(what + " gbias (added)", conv.Bias.Grad!.Span, gradsBefore[1], gb));

        // The accumulate path adds the input gradient onto what is there (a skip connection's share).
        var prior = Normal(rng, x.Length);
        var gxAcc = ToTensor(prior, b, cin, h, w);
        conv.Backward(xt, gyt, gxAcc, accumulate: true);
        errors.Add(AssertAdded(what + " gx (accumulate)", gxAcc.Span, ToFloats(prior), gx));
        errors.Add(AssertAdded(what + " gweight (second backward)", conv.Weight.Grad!.Span, gradsBefore[0], Twice(gw)));
        Report(what, fd, [.. errors]);
    }

    [Theory, MemberData(nameof(Seeds))]
    public void ConvTranspose2d(int seed) => CheckConvTranspose2d(seed, onePixel: false);

    // A 1x1 input takes the batched path (the U-Net's up0); batches up to 5 split it between threads.
    [Theory, MemberData(nameof(Seeds))]
    public void ConvTranspose2dOnePixel(int seed) => CheckConvTranspose2d(seed, onePixel: true);

    private void CheckConvTranspose2d(int seed, bool onePixel)
    {
        var rng = Rng.Derive((ulong)seed, onePixel ? 201UL : 200UL);
        int k = Draw(rng, 1, 4), b = Draw(rng, 1, onePixel ? 5 : 4), cin = Draw(rng, 1, 9), cout = Draw(rng, 1, 9);
        int h = onePixel ? 1 : Draw(rng, 1, Math.Max(1, 9 / k)), w = onePixel ? 1 : Draw(rng, 1, Math.Max(1, 9 / k));
        string what = $"ConvTranspose2d k=s={k} seed {seed} x[{b},{cin},{h},{w}] -> {cout}";
        double bound = 1 / Math.Sqrt(cout * k * k);
        var x = Normal(rng, b * cin * h * w);
        var weight = Uniform(rng, cin * cout * k * k, -bound, bound);
        var bias = Uniform(rng, cout, -bound, bound);
        var gy = Normal(rng, b * cout * h * k * w * k);

        var (gx, gw, gb) = Conv64.ConvTranspose2dBackward(x, weight, gy, b, cin, cout, h, w, k);
        double fd = FiniteDifference(what, [("x", x), ("weight", weight), ("bias", bias)],
            () => Conv64.ConvTranspose2d(x, weight, bias, b, cin, cout, h, w, k), gy, [gx, gw, gb], rng);

        var store = new ParameterStore();
        var conv = new ConvTranspose2d(store, "up", cin, cout, k);
        store.Allocate(new Rng(1));
        Load(conv.Weight.Value, weight);
        Load(conv.Bias.Value, bias);
        var gradsBefore = PrefillGrads(store, rng);
        var xt = ToTensor(x, b, cin, h, w);
        var y = Poisoned(b, cout, h * k, w * k);
        conv.Forward(xt, y);
        double ey = AssertClose(what + " y", y.Span, Conv64.ConvTranspose2d(x, weight, bias, b, cin, cout, h, w, k));
        var gxt = Poisoned(b, cin, h, w);
        conv.Backward(xt, ToTensor(gy, b, cout, h * k, w * k), gxt);
        Report(what, fd, ey,
            AssertClose(what + " gx", gxt.Span, gx),
            AssertAdded(what + " gweight (added)", conv.Weight.Grad!.Span, gradsBefore[0], gw),
            AssertAdded(what + " gbias (added)", conv.Bias.Grad!.Span, gradsBefore[1], gb));
    }

    [Theory, MemberData(nameof(Seeds))]
    public void Linear(int seed)
    {
        var rng = Rng.Derive((ulong)seed, 300);
        int b = Draw(rng, 1, 4), fin = Draw(rng, 1, 9), fout = Draw(rng, 1, 9);
        string what = $"Linear seed {seed} x[{b},{fin}] -> {fout}";
        double bound = 1 / Math.Sqrt(fin);
        var x = Normal(rng, b * fin);
        var weight = Uniform(rng, fout * fin, -bound, bound);
        var bias = Uniform(rng, fout, -bound, bound);
        var gy = Normal(rng, b * fout);

        var (gx, gw, gb) = Conv64.LinearBackward(x, weight, gy, b, fin, fout);
        double fd = FiniteDifference(what, [("x", x), ("weight", weight), ("bias", bias)],
            () => Conv64.Linear(x, weight, bias, b, fin, fout), gy, [gx, gw, gb], rng);

        var store = new ParameterStore();
        var linear = new Linear(store, "fc", fin, fout);
        store.Allocate(new Rng(1));
        Load(linear.Weight.Value, weight);
        Load(linear.Bias.Value, bias);
        var gradsBefore = PrefillGrads(store, rng);
        var xt = ToTensor(x, b, fin);
        var y = Poisoned(b, fout);
        linear.Forward(xt, y);
        double ey = AssertClose(what + " y", y.Span, Conv64.Linear(x, weight, bias, b, fin, fout));
        var gxt = Poisoned(b, fin);
        linear.Backward(xt, ToTensor(gy, b, fout), gxt);
        Report(what, fd, ey,
            AssertClose(what + " gx", gxt.Span, gx),
            AssertAdded(what + " gweight (added)", linear.Weight.Grad!.Span, gradsBefore[0], gw),
            AssertAdded(what + " gbias (added)", linear.Bias.Grad!.Span, gradsBefore[1], gb));
    }

    private static double[] Twice(double[] v) => v.Select(d => 2 * d).ToArray();
}
