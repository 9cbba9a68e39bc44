using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Onnx;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Onnx;

/// <summary>The metadata_props that a sampling loop is built from come back from the file as written.</summary>
public class OnnxMetadataTests
{
    [Theory]
    [InlineData("linear", "t/T")]
    [InlineData("cosine", "raw")]
    public void MetadataRoundTripsThroughTheRuntime(string scheduleName, string timeInput)
    {
        var model = OnnxTestModels.Random(3, 8, seed: 8, nCFeat: 3);
        var metadata = new OnnxMetadata
        {
            Schedule = scheduleName,
            Timesteps = 500,
            BetaStart = 2e-4,
            BetaEnd = 0.03,
            TimeInput = timeInput,
            ClassNames = ["Animals & Nature", "Smileys \"quoted\"", "Flaggen ü"],
            Conditional = true,
            Weights = "ema",
            Extra = new Dictionary<string, string> { ["checkpoint"] = "best.safetensors", ["epoch"] = "12" },
        };
        using var dir = new TempDir();
        string path = dir.File("model.onnx");
        OnnxExport.Write(model, metadata, path);

        using var session = new InferenceSession(path);
        var read = session.ModelMetadata.CustomMetadataMap;
        var expected = OnnxExport.MetadataProps(model.Config, metadata);
        Assert.Equal(expected.Count, read.Count);
        foreach (var (key, value) in expected) Assert.Equal(value, read[key]);

        Assert.Equal("spritediffusion-unet", read["format"]);
        Assert.Equal("3", read["in_channels"]);
        Assert.Equal("8", read["n_feat"]);
        Assert.Equal("3", read["n_cfeat"]);
        Assert.Equal("16", read["height"]);
        Assert.Equal(scheduleName, read["schedule"]);
        Assert.Equal("500", read["timesteps"]);
        Assert.Equal(timeInput, read["time_input"]);
        Assert.Equal("true", read["conditional"]);
        Assert.Equal("ema", read["weights"]);
        Assert.Equal("best.safetensors", read["extra.checkpoint"]);
        Assert.Equal("12", read["extra.epoch"]);
        Assert.Equal(metadata.ClassNames, JsonSerializer.Deserialize<string[]>(read["class_names"]));
        Assert.Equal(metadata.CreateSchedule().AlphaBar, JsonSerializer.Deserialize<double[]>(read["alphas_cumprod"]));
        Assert.Equal(scheduleName == "linear", read.ContainsKey("beta_start"));
        if (scheduleName == "linear") Assert.Equal(2e-4, double.Parse(read["beta_start"], System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal("SpriteDiffusion", session.ModelMetadata.ProducerName);
        Assert.Contains(timeInput == "t/T" ? "t / T" : "integer timestep t itself", session.ModelMetadata.Description);
    }

    [Fact]
    public void MetadataThatDescribesNoSamplingIsRefused()
    {
        var model = OnnxTestModels.Random(3, 8, seed: 9);
        var time = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(model, new OnnxMetadata { TimeInput = "seconds" }));
        Assert.Equal("metadata", time.ParamName);
        Assert.Contains("'seconds'", time.Message);
        var schedule = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(model, new OnnxMetadata { Schedule = "sigmoid" }));
        Assert.Equal("metadata", schedule.ParamName);
        Assert.Contains("'sigmoid'", schedule.Message);
    }

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporaryFile()
    {
        var model = OnnxTestModels.Random(3, 8, seed: 10);
        using var dir = new TempDir();
        string path = dir.File("model.onnx");
        File.WriteAllText(path, "old");
        Assert.Throws<ArgumentException>(() => OnnxExport.Write(model, new OnnxMetadata { TimeInput = "?" }, path));
        Assert.Equal("old", File.ReadAllText(path));

        OnnxExport.Write(model, new OnnxMetadata(), path);
        Assert.Equal(OnnxExport.ToBytes(model, new OnnxMetadata()), File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));

        var folder = Assert.Throws<IOException>(() => OnnxExport.Write(model, new OnnxMetadata(), dir.Path));
        Assert.Contains("is a folder", folder.Message);
        var blocked = Assert.Throws<IOException>(() => OnnxExport.Write(model, new OnnxMetadata(), Path.Combine(path, "inside.onnx")));
        Assert.StartsWith(Path.Combine(path, "inside.onnx") + ":", blocked.Message);
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }
}
