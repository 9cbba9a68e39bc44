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

    [Fact]
    public void TheNewMeasuresAreWrittenUnderTheirOwnNames()
    {
        var result = new EvaluationResult("FID (ResNet-18 features)", 12.5, "KID (ResNet-18 features)", new KidResult(0.0123, 0.0007, 100, 1000),
            "ResNet-18 (ImageNet)", 512, 3781, 3000, 60.5, 61.25, 4.5)
        { PrecisionRecall = new PrecisionRecall(0.625, 0.25, 3, 3781, 3000), PrecisionRecallName = "precision/recall (ResNet-18 features, k = 3)" };
        var copies = new NearCopyReport(0.01, 30, 2.5, 2.25, 50, 3, 3000, 3403);
        var baseline = new NearCopyReport(0.35, 132, 2.0, 1.75, 50, 3, 378, 3403);
        var report = EvaluationReport.From(result, "checkpoint", "every image", "DDIM samples", "/m.safetensors", new SamplerSettings("ddim", 100, 0.0, 7), 0.5, 300.25, 427.0) with
        {
            Real = new RealSetReport("all", 0.1, 42, null, false, 3781, 3781, 3403, 378),
            Memorisation = new MemorisationReport(PixelSpace.Description, "d1 < d50 / 3", copies, baseline, [new ClosestPair(17, 1200, 1333, 0.5, 3.5, true)]) { PairsImage = "out/closest_pairs.png" },
            PerClass = new PerClassReport("FID (ResNet-18 features) per class", 10, [new ClassFid(0, "Flags", 270, 214, 88.5, null), new ClassFid(1, "Activities", 8, 6, null, "too few")]),
            Notes = ["assumed the trainer's defaults"],
        };
        using var doc = JsonDocument.Parse(report.ToJson());
        var root = doc.RootElement;
        Assert.Equal(0.625, root.GetProperty("precision_recall").GetProperty("precision").GetDouble());
        Assert.Equal(0.25, root.GetProperty("precision_recall").GetProperty("recall").GetDouble());
        Assert.Equal("precision/recall (ResNet-18 features, k = 3)", root.GetProperty("precision_recall").GetProperty("name").GetString());
        Assert.Equal("all", root.GetProperty("real").GetProperty("set").GetString());
        Assert.False(root.GetProperty("real").GetProperty("recorded_in_checkpoint").GetBoolean());
        var memorisation = root.GetProperty("memorisation");
        Assert.Equal(0.01, memorisation.GetProperty("generated").GetProperty("rate").GetDouble());
        Assert.Equal(132, memorisation.GetProperty("validation_baseline").GetProperty("near_copy_count").GetInt32());
        Assert.Equal(1333, memorisation.GetProperty("closest_pairs")[0].GetProperty("data_set_row").GetInt32());
        Assert.Equal("out/closest_pairs.png", memorisation.GetProperty("pairs_image").GetString());
        Assert.Equal(88.5, root.GetProperty("per_class").GetProperty("classes")[0].GetProperty("fid").GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("per_class").GetProperty("classes")[1].GetProperty("fid").ValueKind);
        Assert.Equal("assumed the trainer's defaults", root.GetProperty("notes")[0].GetString());

        var back = EvaluationReport.FromJson(report.ToJson());
        Assert.Equal(report.PrecisionRecall, back.PrecisionRecall);
        Assert.Equal(report.Real, back.Real);
        Assert.Equal(copies, back.Memorisation!.Generated);
        Assert.Equal(report.Memorisation!.ClosestPairs, back.Memorisation.ClosestPairs);
        Assert.Equal(report.PerClass!.Classes, back.PerClass!.Classes);
    }
}
