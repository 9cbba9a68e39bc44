using Microsoft.ML.OnnxRuntime;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Onnx;
using SpriteDiffusion.Tests.Cli;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Onnx;

/// <summary>An exported v model says so: its output holds v, not the noise.</summary>
public class ExportPredictionTests
{
    [Fact]
    public void TheExportRecordsThePredictionTarget()
    {
        using var dir = new TempDir();
        foreach (string prediction in new[] { "eps", "v" })
        {
            string ckpt = dir.File($"{prediction}.safetensors"), onnx = dir.File($"{prediction}.onnx");
            var model = OnnxTestModels.Random(3, 8, seed: 50);
            Checkpoint.Save(ckpt, model, new CheckpointInfo { Model = model.Config, Prediction = prediction });
            var r = SpritesProcess.Run(dir.Path, "export", ckpt, "--onnx", onnx);
            Assert.True(r.Code == 0, r.Err);
            Assert.Equal(prediction == "v", r.Out.Contains("this model predicts v", StringComparison.Ordinal));
            using var session = new InferenceSession(onnx);
            Assert.Equal(prediction, session.ModelMetadata.CustomMetadataMap["prediction"]);
            Assert.Equal(prediction == "v", session.ModelMetadata.Description.Contains("velocity", StringComparison.Ordinal));
        }
        var bad = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(OnnxTestModels.Random(3, 8, seed: 51), new OnnxMetadata { Prediction = "x0" }));
        Assert.Equal("metadata", bad.ParamName);
    }
}
