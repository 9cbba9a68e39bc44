using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Training;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Tests.Cli;

public class ClassSamplingTests
{
    private static string Checkpoint(TempDir dir, bool conditional)
    {
        string path = dir.File(conditional ? "cond.safetensors" : "uncond.safetensors");
        var model = new UNet(new UNetConfig(NFeat: 8, NCFeat: 3), seed: 5);
        var ema = new WeightAverage(model.Store, 0.9);
        // Moves the raw weights away from the average, so the two sets sample differently.
        var nudge = new float[model.Store.Values.Length];
        new SpriteDiffusion.Engine.Rng(1).FillUniform(nudge, -0.05f, 0.05f);
        System.Numerics.Tensors.TensorPrimitives.Add(model.Store.Values.Span, nudge, model.Store.Values.Span);
        SpriteDiffusion.Checkpoints.Checkpoint.Save(path, model, new CheckpointInfo { Model = model.Config, Conditional = conditional, ContextDropout = conditional ? 0.1 : 0, ClassNames = ["cats", "dogs", "flags"] }, ema);
        return path;
    }

    [Fact]
    public void PerClassGridsHaveOneLabelledRowPerClass()
    {
        using var dir = new TempDir();
        string ckpt = Checkpoint(dir, conditional: true);
        var r = SpritesProcess.Run(dir.Path, "sample", "--checkpoint", ckpt, "--steps", "3", "--per-class", "2", "--out", "classes.png");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("2 per class", r.Out);
        var grid = Png.Read(dir.File("classes.png"));
        Assert.Equal(3 * 16 * 4 + 4, grid.Height); // 3 rows, 4x upscale, 1-pixel gaps
        Assert.True(grid.Width > 2 * 16 * 4 + 3, "the label column is missing");
    }

    [Fact]
    public void AClassByNameGuidanceAndRawWeightsChangeTheSprites()
    {
        using var dir = new TempDir();
        string ckpt = Checkpoint(dir, conditional: true);
        string[] Common(string output) => ["sample", "--checkpoint", ckpt, "--steps", "3", "--n", "4", "--seed", "2", "--out", output, "--out-npy", output + ".npy"];
        var outputs = new Dictionary<string, string[]>
        {
            ["dogs.png"] = [.. Common("dogs.png"), "--class", "dogs"],
            ["dogs1.png"] = [.. Common("dogs1.png"), "--class", "1"],
            ["flags.png"] = [.. Common("flags.png"), "--class", "flags"],
            ["dogs_w1.png"] = [.. Common("dogs_w1.png"), "--class", "dogs", "--guidance", "1"],
            ["dogs_raw.png"] = [.. Common("dogs_raw.png"), "--class", "dogs", "--weights", "raw"],
            ["dogs_noclip.png"] = [.. Common("dogs_noclip.png"), "--class", "dogs", "--clip-denoised", "false"],
        };
        foreach (var (name, args) in outputs)
        {
            var r = SpritesProcess.Run(dir.Path, args);
            Assert.True(r.Code == 0, r.Err);
        }
        float[] Bytes(string f) => Npy.ReadFloat32(dir.File(f + ".npy"), out _);
        Assert.Equal(Bytes("dogs.png"), Bytes("dogs1.png"));
        Assert.NotEqual(Bytes("dogs.png"), Bytes("flags.png"));
        Assert.NotEqual(Bytes("dogs.png"), Bytes("dogs_w1.png"));
        Assert.NotEqual(Bytes("dogs.png"), Bytes("dogs_raw.png"));
        Assert.NotEqual(Bytes("dogs.png"), Bytes("dogs_noclip.png"));
    }

    [Theory]
    [InlineData(true, "--class zebra", "'cats'")]
    [InlineData(true, "--guidance 2", "--class")]
    [InlineData(true, "--per-class 2 --n 4", "--per-class")]
    [InlineData(true, "--class cats --guidance -1", "--guidance")]
    [InlineData(true, "--per-class 0", "--per-class")]
    [InlineData(true, "--per-class 2 --animate a.png", "--animate")]
    [InlineData(false, "--class cats", "unconditional")]
    [InlineData(false, "--per-class 2", "unconditional")]
    public void ImpossibleClassRequestsFailCleanlyAndWriteNothing(bool conditional, string flags, string mentioned)
    {
        using var dir = new TempDir();
        string ckpt = Checkpoint(dir, conditional);
        var args = new List<string> { "sample", "--checkpoint", ckpt, "--steps", "2", "--out", "out.png" };
        args.AddRange(flags.Split(' '));
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, args.ToArray()), mentioned);
        Assert.False(File.Exists(dir.File("out.png")));
    }
}
