using SpriteDiffusion.Engine;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;
using static SpriteDiffusion.Tests.GradientChecks.Checks;

namespace SpriteDiffusion.Tests.Model;

/// <summary>
/// A batch of one on one thread (Workers.Serial) and on all of them gives the same bits wherever the
/// layers take the same tiles: what lets the frozen U-Net time both and take the faster
/// (UNet.ChoosesThreads). The layers with their tiles forced, on any machine; the model where it
/// chooses (two threads without AVX-512, where both counts take F(4x4)).
/// </summary>
public class SerialPassTests
{
    [Theory]
    [InlineData(32, 32, 16, true)]
    [InlineData(32, 32, 16, false)]
    [InlineData(64, 64, 8, false)]
    [InlineData(64, 32, 16, true)]
    public void AFrozenConvolutionOnOneThreadGivesTheSameBits(int cin, int cout, int side, bool f4)
    {
        var store = new ParameterStore();
        var conv = new Conv2d(store, "conv", cin, cout, 3);
        store.Allocate(new Rng(31));
        var frozen = conv.Freeze(gelu: true);
        frozen.Tiles = f4 ? WinogradTiles.F4x4 : WinogradTiles.F2x2;
        var x = ToTensor(Normal(Rng.Derive(32, (ulong)(cin * side)), cin * side * side), 1, cin, side, side);
        AssertSameBitsOnOneThread(cout, side, y => frozen.Forward(x, y));
    }

    [Fact]
    public void AFrozenUpSamplingOnOneThreadGivesTheSameBits()
    {
        var store = new ParameterStore();
        var up = new ConvTranspose2d(store, "up", 64, 32, 2);
        store.Allocate(new Rng(33));
        var frozen = up.Freeze();
        var x = ToTensor(Normal(new Rng(34), 64 * 8 * 8), 1, 64, 8, 8);
        AssertSameBitsOnOneThread(32, 16, y => frozen.Forward(x, y));
    }

    [ChoosesThreadsTheory]
    [InlineData("nf32_b1")]
    [InlineData("nf64_b1")]
    public void TheFrozenModelOnOneThreadGivesTheSameBitsWhereItChooses(string name)
    {
        var (model, x, t, c) = EvalRegressionTests.ForwardCase(name);
        using var scope = model.Freeze();
        int h = model.Config.Height;
        Assert.Equal(Workers.Threads == 2 && Conv2d.Frozen.AutoPicksF4(1, h, h), model.ChoosesThreads(1));
        Assert.False(model.ChoosesThreads(2));
        model.SerialOverride = false;
        var two = model.Forward(x, t, c, training: false).ToArray();
        Assert.Equal(2, model.LastPassThreads);
        model.SerialOverride = true;
        var one = model.Forward(x, t, c, training: false).ToArray();
        Assert.Equal(1, model.LastPassThreads);
        Assert.All(one, v => Assert.True(float.IsFinite(v)));
        for (int i = 0; i < one.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(two[i]) == BitConverter.SingleToInt32Bits(one[i]), $"element {i}: {one[i]} on one thread, {two[i]} on two");
        // Left to choose, the passes alternate between the two while they time them: the same output each time.
        model.SerialOverride = null;
        for (int pass = 0; pass < 12; pass++) Assert.Equal(two, model.Forward(x, t, c, training: false).ToArray());
    }

    // Elsewhere a pass runs on every thread, and says so.
    [Fact]
    public void APassThatDoesNotChooseRunsOnEveryThread()
    {
        var (model, x, t, c) = EvalRegressionTests.ForwardCase("nf32_b4");
        using var scope = model.Freeze();
        Assert.False(model.ChoosesThreads(4));
        model.SerialOverride = true;
        model.Forward(x, t, c, training: false);
        Assert.Equal(Workers.Threads, model.LastPassThreads);
    }

    private static void AssertSameBitsOnOneThread(int channels, int side, Action<Tensor> forward)
    {
        var all = Poisoned(1, channels, side, side);
        forward(all);
        var one = Poisoned(1, channels, side, side);
        using (Workers.Serial()) forward(one);
        for (int i = 0; i < one.Length; i++)
        {
            Assert.True(float.IsFinite(one.Span[i]), $"element {i} was not written");
            Assert.True(BitConverter.SingleToInt32Bits(all.Span[i]) == BitConverter.SingleToInt32Bits(one.Span[i]),
                $"element {i} is {one.Span[i]} on one thread, {all.Span[i]} on {Workers.Threads}");
        }
    }
}

/// <summary>
/// Runs a test only where the frozen U-Net chooses between one thread and two: two threads without
/// AVX-512 (elsewhere the choice is not made and the test would compare a pass with itself). On
/// an AVX-512 machine `DOTNET_EnableAVX512=0` runs it, as .ci/run does for the engine's tests.
/// </summary>
public sealed class ChoosesThreadsTheoryAttribute : TheoryAttribute
{
    public ChoosesThreadsTheoryAttribute()
    {
        if (Workers.Threads != 2 || !Conv2d.Frozen.AutoPicksF4(1, 16, 16))
            Skip = "the model chooses between one thread and two only on two threads without AVX-512 (run with DOTNET_EnableAVX512=0, as .ci/run does)";
    }
}
