using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;
using Xunit.Abstractions;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.GradientChecks;

/// <summary>
/// The engine's ResidualConvBlock against the float64 block composed from the reference ops, after
/// that composition passes its own finite-difference check. Finite differences of the float32
/// block itself would drown in rounding; the composition carries the float64 evidence instead.
/// </summary>
public class BlockGradientTests(ITestOutputHelper output) : GradientCheckTests(output)
{
    private const double BlockTolerance = 1e-4;

    private static readonly string[] Variants = ["projection", "identity", "plain"];

    public static TheoryData<string, bool, int> Cases
    {
        get
        {
            var data = new TheoryData<string, bool, int>();
            foreach (string variant in Variants)
            foreach (bool training in new[] { true, false })
            foreach (int seed in new[] { 1, 2, 3 })
                data.Add(variant, training, seed);
            return data;
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void ResidualConvBlock(string variant, bool training, int seed)
    {
        var rng = Rng.Derive((ulong)seed, (ulong)(2000 + Array.IndexOf(Variants, variant) * 10 + (training ? 1 : 0)));
        int b, cin, cout, h, w;
        do
        {
            b = Draw(rng, 1, 3); h = Draw(rng, 1, 6); w = Draw(rng, 1, 6); cout = Draw(rng, 1, 5);
            cin = variant switch
            {
                "projection" => Draw(rng, 1, 4) is var c && c >= cout ? c + 1 : c, // any count but cout
                "identity" => cout,
                _ => Draw(rng, 1, 5),
            };
        } while (training && b * h * w < 3); // see NormGradientTests.MinSetSize
        bool isRes = variant != "plain";
        string what = $"ResidualConvBlock {variant} {(training ? "train" : "eval")} seed {seed} x[{b},{cin},{h},{w}] -> {cout}";
        var block = new Block64(cin, cout, isRes, training, rng);
        var x = Normal(rng, b * cin * h * w);
        var gy = Normal(rng, b * cout * h * w);

        var (gx, gparams, gz1, gz2) = block.Backward(x, gy, b, h, w);
        // In training, BatchNorm cancels a conv bias exactly, so its gradient is zero up to rounding
        // in the sum of the conv output's gradient: judge it against that sum's magnitude.
        var scales = new Dictionary<string, double>();
        if (training)
        {
            scales["conv1.0.bias"] = ChannelSumScale(gz1, b, cout, h * w);
            scales["conv2.0.bias"] = ChannelSumScale(gz2, b, cout, h * w);
        }
        double fd = FiniteDifference(what, [("x", x), .. block.Parameters], () => block.Forward(x, b, h, w), gy, [gx, .. gparams], rng, scales);

        var errors = new List<double>();
        foreach (bool gxOverInput in cin == cout && variant != "projection" ? new[] { false, true } : [false])
        {
            string run = what + (gxOverInput ? " (gx over the input)" : "");
            var store = new ParameterStore();
            var engine = new SpriteDiffusion.Model.ResidualConvBlock(store, "blk", cin, cout, isRes);
            store.Allocate(new Rng(1));
            Assert.Equal(block.Parameters.Length, store.Entries.Count(e => e.Kind == StateKind.Parameter));
            foreach (var (name, values) in block.Parameters.Concat(block.Buffers)) Load(store["blk." + name].Value, values);
            var xt = ToTensor(x, b, cin, h, w);
            var y = engine.Forward(xt, training);
            errors.Add(AssertClose(run + " y", y.Span, block.Forward(x, b, h, w), BlockTolerance));
            var gxt = gxOverInput ? xt : Poisoned(b, cin, h, w);
            engine.Backward(ToTensor(gy, b, cout, h, w), gxt, accumulate: false);
            errors.Add(AssertClose(run + " gx", gxt.Span, gx, BlockTolerance));
            for (int p = 0; p < gparams.Length; p++)
            {
                string name = block.Parameters[p].Name;
                errors.Add(AssertClose($"{run} d/d{name}", store["blk." + name].Grad!.Span, gparams[p], BlockTolerance, scales.GetValueOrDefault(name)));
            }
        }
        Report(what, fd, [.. errors]);
    }

    /// <summary>The largest per-channel sum of |g| over batch and space: the scale of a bias gradient's rounding.</summary>
    private static double ChannelSumScale(double[] g, int batch, int channels, int hw)
    {
        double worst = 0;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (int n = 0; n < batch; n++)
            for (int i = 0; i < hw; i++) sum += Math.Abs(g[(n * channels + c) * hw + i]);
            worst = Math.Max(worst, sum);
        }
        return worst;
    }
}
