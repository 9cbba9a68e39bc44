using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Tests.Cli;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Tests.Onnx;

/// <summary>`sprites export` as a user runs it.</summary>
public class ExportCommandTests
{
    [Fact]
    public void ExportsTheChosenWeightsWithTheCheckpointsSamplingFacts()
    {
        using var dir = new TempDir();
        string ckpt = dir.File("cond.safetensors");
        var model = OnnxTestModels.Random(3, 8, seed: 30, nCFeat: 4);
        var ema = new WeightAverage(model.Store, 0.99);
        model.Store.Reinitialize(new Rng(31)); // the raw weights now differ from their average
        Checkpoint.Save(ckpt, model, new CheckpointInfo
        {
            Model = model.Config, TimeInput = "raw", ClassNames = ["a", "b", "c", "d"], Conditional = true, Epoch = 3, Step = 40,
        }, ema);

        foreach (var (flag, choice) in new[] { ("ema", WeightChoice.Ema), ("raw", WeightChoice.Raw) })
        {
            string onnx = dir.File($"{flag}.onnx");
            var r = SpritesProcess.Run(dir.Path, "export", ckpt, "--onnx", onnx, "--weights", flag, "--opset", "13");
            Assert.True(r.Code == 0, r.Err);
            Assert.Contains($"{flag}.onnx", r.Out);
            Assert.Contains("raw t", r.Out);

            using var session = new InferenceSession(onnx);
            var meta = session.ModelMetadata.CustomMetadataMap;
            Assert.Equal(flag, meta["weights"]);
            Assert.Equal("raw", meta["time_input"]);
            Assert.Equal("true", meta["conditional"]);
            Assert.Equal("4", meta["n_cfeat"]);
            Assert.Equal(["a", "b", "c", "d"], JsonSerializer.Deserialize<string[]>(meta["class_names"])!);
            Assert.Equal("cond.safetensors", meta["extra.checkpoint"]);
            Assert.Equal("3", meta["extra.epoch"]);

            var (expected, _) = Checkpoint.Load(ckpt, choice);
            var (x, t, c) = OnnxTestModels.Inputs(expected.Config, 2, seed: 1);
            for (int i = 0; i < t.Length; i++) t[i] *= 999; // the raw convention's range
            var actual = OnnxTestModels.Runtime(session, expected.Config, x, t, c);
            Assert.True(OnnxTestModels.RelativeMaxDifference(OnnxTestModels.Engine(expected, x, t, c), actual) <= 1e-5, flag);
        }
        Assert.NotEqual(File.ReadAllBytes(dir.File("ema.onnx")), File.ReadAllBytes(dir.File("raw.onnx")));
    }

    [Fact]
    public void AnUnsupportedOpsetFailsBeforeAnythingIsRead()
    {
        using var dir = new TempDir();
        // The checkpoint does not exist either: the opset is checked first.
        var r = SpritesProcess.Run(dir.Path, "export", "missing.safetensors", "--onnx", "m.onnx", "--opset", "12");
        SpritesProcess.AssertCleanFailure(r, "--opset");
        Assert.Contains("13 to 17", r.Err);
        Assert.False(File.Exists(dir.File("m.onnx")));
    }

    [Fact]
    public void AMissingCheckpointIsNamed()
    {
        using var dir = new TempDir();
        var r = SpritesProcess.Run(dir.Path, "export", "missing.safetensors", "--onnx", "m.onnx");
        SpritesProcess.AssertCleanFailure(r, "missing.safetensors: no such checkpoint");
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void AnUnwritableOutputIsNamed()
    {
        using var dir = new TempDir();
        string ckpt = TestCheckpoints.Tiny(dir);
        File.WriteAllText(dir.File("notes.txt"), "a file, not a folder");
        var r = SpritesProcess.Run(dir.Path, "export", ckpt, "--onnx", Path.Combine("notes.txt", "m.onnx"));
        SpritesProcess.AssertCleanFailure(r, "notes.txt is a file, not a folder");
        Assert.Equal(2, Directory.GetFileSystemEntries(dir.Path).Length);
    }
}
