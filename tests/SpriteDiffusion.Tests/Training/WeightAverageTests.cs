using SpriteDiffusion.Engine;
using SpriteDiffusion.Model;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Tests.Training;

public class WeightAverageTests
{
    [Fact]
    public void TheDecayWarmsUpToItsLimit()
    {
        var model = new UNet(new UNetConfig(NFeat: 8), seed: 1);
        var ema = new WeightAverage(model.Store, 0.995);
        Assert.Equal(0.1, ema.DecayAt(0), 12);
        Assert.Equal(11.0 / 20.0, ema.DecayAt(10), 12);
        Assert.Equal(0.995, ema.DecayAt(100_000), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage(model.Store, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage(model.Store, 0.0));
    }

    [Fact]
    public void UpdatesFollowTheAverageFormulaForParametersAndRunningStatistics()
    {
        var model = new UNet(new UNetConfig(NFeat: 8), seed: 2);
        var ema = new WeightAverage(model.Store, 0.9);
        var start = model.Store.Values.Span.ToArray();
        var bufferEntry = ema.BufferEntries[0];
        var bufferStart = bufferEntry.Value.Span.ToArray();

        var rng = new Rng(3);
        var step1 = new float[start.Length];
        rng.FillGaussian(step1);
        step1.CopyTo(model.Store.Values.Span);
        rng.FillGaussian(bufferEntry.Value.Span);
        var bufferStep1 = bufferEntry.Value.Span.ToArray();
        ema.Update(updates: 1000);

        double d = ema.DecayAt(1000);
        Assert.Equal(0.9, d, 12);
        for (int i = 0; i < start.Length; i += 97)
            Assert.Equal(d * start[i] + (1 - d) * step1[i], ema.Parameters.Span[i], 1e-5);
        for (int i = 0; i < bufferStart.Length; i++)
            Assert.Equal(d * bufferStart[i] + (1 - d) * bufferStep1[i], ema.Buffers[0].Span[i], 1e-5);
        // The average is not the weights.
        Assert.False(ema.Parameters.Span.SequenceEqual(model.Store.Values.Span));
    }

    [Fact]
    public void SwappingTwiceRestoresBothSets()
    {
        var model = new UNet(new UNetConfig(NFeat: 8), seed: 4);
        var ema = new WeightAverage(model.Store, 0.99);
        new Rng(5).FillGaussian(model.Store.Values.Span);
        ema.Update(100);
        var weights = model.Store.Values.Span.ToArray();
        var average = ema.Parameters.Span.ToArray();

        ema.Swap();
        Assert.Equal(average, model.Store.Values.Span.ToArray());
        Assert.Equal(weights, ema.Parameters.Span.ToArray());
        ema.Swap();
        Assert.Equal(weights, model.Store.Values.Span.ToArray());
        Assert.Equal(average, ema.Parameters.Span.ToArray());
    }
}
