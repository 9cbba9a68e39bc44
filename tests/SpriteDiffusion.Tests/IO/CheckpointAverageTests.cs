using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Training;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Tests.IO;

public class CheckpointAverageTests
{
    [Fact]
    public void AverageWeightsLoadByDefaultAndRawOnRequestBesideTheSeedStateDict()
    {
        using var dir = new TempDir();
        var model = new UNet(new UNetConfig(NFeat: 8), seed: 3);
        var ema = new WeightAverage(model.Store, 0.9);
        new Rng(4).FillGaussian(model.Store.Values.Span);
        foreach (var e in model.Store.Entries.Where(e => e.Kind == StateKind.Buffer)) new Rng(6).FillUniform(e.Value.Span, 0.5f, 2f);
        ema.Update(100);
        string path = dir.File("c.safetensors");
        Checkpoint.Save(path, model, new CheckpointInfo { Model = model.Config, Conditional = true, ContextDropout = 0.1 }, ema);

        var file = SafetensorsFile.Read(path);
        var seedNames = file.Names.Where(n => !n.StartsWith(Checkpoint.EmaPrefix, StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(model.Store.Entries.Select(e => e.Name).ToHashSet(), seedNames);

        var (raw, info) = Checkpoint.Load(path, WeightChoice.Raw);
        var (averaged, _) = Checkpoint.Load(path);
        Assert.True(raw.Store.Values.Span.SequenceEqual(model.Store.Values.Span));
        Assert.True(averaged.Store.Values.Span.SequenceEqual(ema.Parameters.Span));
        var bn = ema.BufferEntries[1].Name;
        Assert.True(averaged.Store[bn].Value.Span.SequenceEqual(ema.Buffers[1].Span));
        Assert.True(raw.Store[bn].Value.Span.SequenceEqual(model.Store[bn].Value.Span));
        Assert.True(info.Conditional);
        Assert.Equal(0.1, info.ContextDropout);
        Assert.Equal(0.9, info.EmaDecay);

        // Without an average, both choices give the raw weights.
        Checkpoint.Save(dir.File("plain.safetensors"), model, new CheckpointInfo { Model = model.Config });
        var (plain, plainInfo) = Checkpoint.Load(dir.File("plain.safetensors"));
        Assert.True(plain.Store.Values.Span.SequenceEqual(model.Store.Values.Span));
        Assert.Null(plainInfo.EmaDecay);
        Assert.False(plainInfo.Conditional);
    }
}
