using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Data;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Layers;
using SpriteDiffusion.Model;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Cli;

/// <summary>train --tileable records circular padding, and sampling (--tileable or from such a checkpoint) honours it.</summary>
public class TileableTests
{
    private sealed class Quiet : ITrainingObserver;

    private static string Save(TempDir dir, string name, PaddingMode padding)
    {
        var model = new UNet(new UNetConfig(NFeat: 8) { Padding = padding }, seed: 5);
        string path = dir.File(name);
        Checkpoint.Save(path, model, new CheckpointInfo { Model = model.Config });
        return path;
    }

    [Fact]
    public void TheCheckpointRecordsThePaddingAndAnOverrideChangesIt()
    {
        using var dir = new TempDir();
        string circular = Save(dir, "c.safetensors", PaddingMode.Circular), zeros = Save(dir, "z.safetensors", PaddingMode.Zeros);
        Assert.Equal("circular", SafetensorsFile.Read(circular).Metadata["padding"]);
        Assert.Equal(PaddingMode.Circular, Checkpoint.Load(circular).Info.Model.Padding);
        Assert.Equal(PaddingMode.Zeros, Checkpoint.Load(zeros).Info.Model.Padding);
        var (model, info) = Checkpoint.Load(zeros, overrides: new CheckpointOverrides { Padding = PaddingMode.Circular });
        Assert.Equal(PaddingMode.Circular, model.Config.Padding);
        Assert.Equal(PaddingMode.Circular, info.Model.Padding);
    }

    [Fact]
    public void SampleTileableIsTheCircularModelAndDiffersFromZeroPadding()
    {
        using var dir = new TempDir();
        Save(dir, "c.safetensors", PaddingMode.Circular);
        Save(dir, "z.safetensors", PaddingMode.Zeros);
        var noise = new float[2 * 3 * 16 * 16];
        new Rng(3).FillGaussian(noise);
        Npy.WriteFloat32(dir.File("noise.npy"), noise, [2, 3, 16, 16]);
        string[] common = ["sample", "--steps", "3", "--noise", "noise.npy", "--out", "g.png"];
        var asked = SpritesProcess.Run(dir.Path, [.. common, "--checkpoint", "z.safetensors", "--tileable", "--out-npy", "a.npy"]);
        Assert.True(asked.Code == 0, asked.Err);
        Assert.Contains("tileable", asked.Out);
        var recorded = SpritesProcess.Run(dir.Path, [.. common, "--checkpoint", "c.safetensors", "--out-npy", "b.npy"]);
        Assert.True(recorded.Code == 0, recorded.Err);
        Assert.Contains("tileable", recorded.Out);
        var plain = SpritesProcess.Run(dir.Path, [.. common, "--checkpoint", "z.safetensors", "--out-npy", "c.npy"]);
        Assert.True(plain.Code == 0, plain.Err);
        Assert.DoesNotContain("tileable", plain.Out);
        var a = Npy.ReadFloat32(dir.File("a.npy"), out _);
        Assert.Equal(a, Npy.ReadFloat32(dir.File("b.npy"), out _));
        Assert.NotEqual(a, Npy.ReadFloat32(dir.File("c.npy"), out _));
    }

    [Fact]
    public void TrainTileableTrainsCircularAndResumesThatWay()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var options = new TrainingOptions
        {
            Data = BundledData.DefaultDirectory, NFeat = 8, Epochs = 1, BatchSize = 16, Limit = 48, Output = run, Seed = 2, Samples = 0, Tileable = true,
        };
        new Trainer(options, new Quiet()).Run(CancellationToken.None);
        Assert.Equal(PaddingMode.Circular, Checkpoint.Load(Path.Combine(run, Trainer.BestFile)).Info.Model.Padding);
        Assert.Contains("\"tileable\": true", File.ReadAllText(Path.Combine(run, Trainer.ConfigFile)));
        // A run resumed from its config.json keeps training circularly.
        var resumed = TrainingOptions.ResumeBase.Overlay(Path.Combine(run, Trainer.ConfigFile));
        Assert.True(resumed.Tileable);
    }
}
