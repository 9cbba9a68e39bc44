using System.Text.Json;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Evaluation;

public class EvaluationReportTests
{
    [Fact]
    public void JsonNamesTheMetricAndKeepsEveryField()
    {
        var result = new EvaluationResult("FID (ResNet-18 features)", 12.5, "KID (ResNet-18 features)", new KidResult(0.0123, 0.0007, 100, 1000),
            "ResNet-18 (ImageNet)", 512, 3000, 3000, 60.5, 61.25, 4.5);
        var report = EvaluationReport.From(result, "checkpoint", "validation split", "DDIM samples", "/runs/best.safetensors",
            new SamplerSettings("ddim", 100, 0.0, 7), 0.5, 300.25, 427.0);
        using var temp = new TempDir();
        string path = Path.Combine(temp.Path, "report.json");
        report.Write(path);
        string json = File.ReadAllText(path);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("FID (ResNet-18 features)", root.GetProperty("fid").GetProperty("name").GetString());
        Assert.Equal(12.5, root.GetProperty("fid").GetProperty("value").GetDouble());
        Assert.Equal(0.0007, root.GetProperty("kid").GetProperty("standard_deviation").GetDouble());
        Assert.Equal(100, root.GetProperty("sampler").GetProperty("steps").GetInt32());
        Assert.Equal(300.25, root.GetProperty("seconds").GetProperty("generation").GetDouble());
        Assert.Equal(6000 / (60.5 + 61.25), root.GetProperty("features_per_second").GetDouble(), 9);
        Assert.Equal("/runs/best.safetensors", root.GetProperty("checkpoint").GetString());
        var back = EvaluationReport.FromJson(json);
        Assert.Equal(report with { }, back with { CreatedUtc = report.CreatedUtc });
    }
}
