using System.Text.Json;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Data;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Tests.Cli;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Evaluation;

/// <summary>`sprites evaluate` run as a user runs it: a separate process, its exit code, output and report.</summary>
[Collection(ResNetCollection.Name)]
public class EvaluateCommandTests
{
    [Fact]
    public void ComparesTwoFoldersAndWritesANamedReport()
    {
        using var temp = new TempDir();
        ImageFolder.Save(ProceduralSprites.Make(6, seed: 31), Folder(temp, "real"));
        ImageFolder.Save(ProceduralSprites.UniformNoise(5, seed: 32), Folder(temp, "fake"));
        string output = Path.Combine(temp.Path, "out");
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--real-dir", Path.Combine(temp.Path, "real"), "--fake-dir", Path.Combine(temp.Path, "fake"),
            "--out", output, "--keep-images", "--kid-subsets", "10");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("FID (ResNet-18 features)", stdout);
        Assert.Contains("KID (ResNet-18 features)", stdout);
        Assert.Contains("Precision/recall (ResNet-18 features, k = 3)", stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        var root = doc.RootElement;
        Assert.Equal("folders", root.GetProperty("mode").GetString());
        Assert.Equal("FID (ResNet-18 features)", root.GetProperty("fid").GetProperty("name").GetString());
        Assert.True(root.GetProperty("fid").GetProperty("value").GetDouble() > 0);
        Assert.Equal(6, root.GetProperty("real_count").GetInt32());
        Assert.Equal(5, root.GetProperty("generated_count").GetInt32());
        Assert.Equal(5, root.GetProperty("kid_subset_size").GetInt32());
        Assert.True(root.GetProperty("features_per_second").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("sampler").ValueKind);
        var pr = root.GetProperty("precision_recall");
        Assert.Equal("precision/recall (ResNet-18 features, k = 3)", pr.GetProperty("name").GetString());
        Assert.InRange(pr.GetProperty("precision").GetDouble(), 0, 1);
        Assert.InRange(pr.GetProperty("recall").GetDouble(), 0, 1);
        Assert.Equal(3, pr.GetProperty("k").GetInt32());
        // Near-copies need a training set, which two folders do not have.
        Assert.Equal(JsonValueKind.Null, root.GetProperty("memorisation").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("real").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("per_class").ValueKind);
        Assert.Equal(6, Directory.GetFiles(Path.Combine(output, "real"), "*.png").Length);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(output, "generated"), "*.png").Length);
    }

    [Fact]
    public void AFolderAgainstItselfHasPrecisionAndRecallOne()
    {
        using var temp = new TempDir();
        string same = Folder(temp, "same");
        ImageFolder.Save(ProceduralSprites.Make(8, seed: 5), same);
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--real-dir", same, "--fake-dir", same, "--out", Folder(temp, "out"), "--kid-subsets", "2");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var pr = EvaluationReport.FromJson(File.ReadAllText(temp.File("out", "report.json"))).PrecisionRecall!;
        Assert.Equal((1.0, 1.0, 3), (pr.Precision, pr.Recall, pr.K));
        Assert.Contains("1.000 / 1.000", stdout);

        var real = SpritesProcess.Run(temp.Path, "evaluate", "--real-dir", same, "--fake-dir", same, "--real", "train");
        SpritesProcess.AssertCleanFailure(real, "--real and --data choose the real images of --checkpoint mode");
    }

    [Fact]
    public void EmptyFolderIsAClearErrorWithoutAStackTrace()
    {
        using var temp = new TempDir();
        ImageFolder.Save(ProceduralSprites.Make(3, seed: 1), Folder(temp, "real"));
        string empty = Folder(temp, "empty");
        var (code, _, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--real-dir", Path.Combine(temp.Path, "real"), "--fake-dir", empty, "--out", Folder(temp, "out"));
        Assert.Equal(1, code);
        Assert.Contains(empty, stderr);
        Assert.Contains("no .png", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void CheckpointModeComparesWithTheWholeDataSetAndLooksForNearCopies()
    {
        using var temp = new TempDir();
        string data = EvaluationTestData.WriteDataSet(temp, "data", [12, 12, 12, 12, 12], EvaluationTestData.FiveClasses, seed: 21);
        string checkpoint = TestCheckpoints.Tiny(temp);
        string output = Folder(temp, "out");
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", checkpoint, "--data", data, "--method", "ddim", "--steps", "3", "--eta", "0.5",
            "--seed", "3", "--n", "24", "--kid-subsets", "5", "--out", output, "--keep-images");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("FID (ResNet-18 features)", stdout);
        Assert.Contains("Near-copies of training sprites (d1 < d50 / 3, pixels)", stdout);
        Assert.Contains("same rule, validation sprites (baseline)", stdout);
        Assert.Contains("assumed (not in the checkpoint)", stdout);
        var report = EvaluationReport.FromJson(File.ReadAllText(Path.Combine(output, "report.json")));
        Assert.Equal("ddim", report.Sampler!.Method);
        // --n counts generated sprites only; the default real set is every image of the data set.
        Assert.Equal((60, 24), (report.RealCount, report.GeneratedCount));
        Assert.Equal(new RealSetReport("all", 0.1, 42, null, false, 60, 60, 54, 6), report.Real);
        Assert.Contains(report.Notes!, n => n.Contains("records no training split") && n.Contains("10 % validation, seed 42"));
        Assert.Equal(60, Directory.GetFiles(Path.Combine(output, "real"), "*.png").Length);
        Assert.NotNull(report.PrecisionRecall);
        Assert.Null(report.PerClass);

        var m = report.Memorisation!;
        Assert.Contains("pixels", m.Space);
        Assert.Equal("d1 < d50 / 3", m.Rule);
        Assert.Equal((24, 54), (m.Generated.QueryCount, m.Generated.ReferenceCount));
        Assert.Equal((6, 54), (m.ValidationBaseline.QueryCount, m.ValidationBaseline.ReferenceCount));
        Assert.Equal(16, m.ClosestPairs.Count);
        Assert.Equal(m.ClosestPairs.Select(p => p.Distance).Order(), m.ClosestPairs.Select(p => p.Distance));
        // Each pair's distance is the one between the kept PNG and the data set's row, in [0, 1] pixels.
        var all = ImageSet.From(SpriteDataset.LoadDirectory(data));
        var kept = ImageFolder.Load(Path.Combine(output, "generated"));
        foreach (var pair in m.ClosestPairs)
        {
            double direct = Distance(PixelSpace.Of(kept.Select([pair.Generated])), PixelSpace.Of(all.Select([pair.DataSetRow])));
            Assert.Equal(direct, pair.Distance, 9);
        }
        // Sixteen pairs, two to a row: 8 rows of five 64-pixel tiles (pair, spacer, pair) with 1-pixel gaps.
        var picture = Png.Read(Path.Combine(output, "closest_pairs.png"));
        Assert.Equal((5 * 64 + 6, 8 * 64 + 9), (picture.Width, picture.Height));
        Assert.Equal(Path.Combine(output, "closest_pairs.png"), m.PairsImage);
    }

    [Fact]
    public void RealChoicesTakeTheRunsOwnSplitFromTheCheckpoint()
    {
        using var temp = new TempDir();
        string data = EvaluationTestData.WriteDataSet(temp, "data", [20, 20, 10, 10, 10], EvaluationTestData.FiveClasses, seed: 22);
        var split = new TrainingSplit(0.25, 3, 48);
        string checkpoint = EvaluationTestData.Checkpoint(temp, "split.safetensors", EvaluationTestData.FiveClasses, split: split);
        foreach (var (choice, expected) in new[] { ("all", 48), ("train", 36), ("val", 12) })
        {
            string output = Folder(temp, "out-" + choice);
            var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", checkpoint, "--data", data, "--real", choice,
                "--steps", "1", "--n", "6", "--kid-subsets", "2", "--out", output, "--keep-images");
            Assert.True(code == 0, $"--real {choice}: exit {code}\n{stdout}\n{stderr}");
            var report = EvaluationReport.FromJson(File.ReadAllText(Path.Combine(output, "report.json")));
            Assert.Equal(expected, report.RealCount);
            Assert.Equal(new RealSetReport(choice, 0.25, 3, 48, true, 70, 48, 36, 12), report.Real);
            Assert.Contains("from the checkpoint", stdout);
            // 36 training sprites are too few for a rule that looks at the 50th nearest: a note, not a crash.
            Assert.Null(report.Memorisation);
            Assert.Contains(report.Notes!, n => n.Contains("near-copies left out"));
        }
        // The validation images compared are the run's own, not those of the default split.
        var dataSet = SpriteDataset.LoadDirectory(data);
        var kept = ImageFolder.Load(Path.Combine(temp.Path, "out-val", "real"));
        Assert.Equal(dataSet.Subset(48, 3).Split(0.25, 3).Validation.Images, kept.Chw);
        Assert.NotEqual(dataSet.Split(0.1, 42).Validation.Images.Take(kept.Chw.Length), kept.Chw);
    }

    [Fact]
    public void ATrainedRunRecordsItsSplitAndEvaluationUsesIt()
    {
        using var temp = new TempDir();
        string data = EvaluationTestData.WriteDataSet(temp, "data", [20, 20, 20, 10, 10], EvaluationTestData.FiveClasses, seed: 23);
        var options = new TrainingOptions
        {
            Data = data, NFeat = 8, Epochs = 1, BatchSize = 16, Limit = 64, SplitSeed = 5, ValidationFraction = 0.2, Samples = 0,
            Output = temp.File("run"), Seed = 1,
        };
        var run = new Trainer(options, new Quiet()).Run(CancellationToken.None);
        var (_, info) = Checkpoint.Load(run.BestCheckpoint);
        Assert.Equal(("5", "0.2", "64"), (info.Extra[TrainingSplit.SeedKey], info.Extra[TrainingSplit.ValidationFractionKey], info.Extra[TrainingSplit.LimitKey]));

        string output = Folder(temp, "out");
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", run.BestCheckpoint, "--data", data, "--real", "train",
            "--steps", "1", "--n", "4", "--kid-subsets", "2", "--out", output);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var report = EvaluationReport.FromJson(File.ReadAllText(Path.Combine(output, "report.json")));
        // 64 of 80 images, 13 of them (20 %, rounded) for validation.
        Assert.Equal(new RealSetReport("train", 0.2, 5, 64, true, 80, 64, 51, 13), report.Real);
        Assert.Equal(51, report.RealCount);
        Assert.DoesNotContain(report.Notes!, n => n.Contains("records no training split"));
    }

    [Fact]
    public void WithoutDataTheFolderTheCheckpointRecordsIsTheRealSet()
    {
        // As the bundled model records data/twemoji16-rgba: relative to where training ran.
        using var temp = new TempDir();
        string data = EvaluationTestData.WriteDataSet(temp, "mine", [12, 12, 12, 12, 12], EvaluationTestData.FiveClasses, seed: 27);
        string checkpoint = EvaluationTestData.Checkpoint(temp, "mine.safetensors", EvaluationTestData.FiveClasses, data: "mine");
        string output = Folder(temp, "out");
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", checkpoint, "--steps", "1", "--n", "4", "--kid-subsets", "2", "--out", output);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var report = EvaluationReport.FromJson(File.ReadAllText(Path.Combine(output, "report.json")));
        Assert.Equal(60, report.RealCount);
        Assert.Contains(Path.GetFullPath(data), report.RealSource);
    }

    [Fact]
    public void GuidedEvaluationReportsFidPerClassAndNeedsAConditionalCheckpoint()
    {
        using var temp = new TempDir();
        string data = EvaluationTestData.WriteDataSet(temp, "data", [30, 20, 6, 2, 2], EvaluationTestData.FiveClasses, seed: 24);
        string conditional = EvaluationTestData.Checkpoint(temp, "conditional.safetensors", EvaluationTestData.FiveClasses, conditional: true);
        string plain = EvaluationTestData.Checkpoint(temp, "plain.safetensors", EvaluationTestData.FiveClasses);
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", conditional, "--data", data, "--steps", "2", "--guidance", "2",
            "--n", "40", "--kid-subsets", "2", "--out", Folder(temp, "out"));
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("guidance 2", stdout);
        Assert.Contains("FID (ResNet-18 features) per class", stdout);
        Assert.Contains("no per-class FID for c (6 real, 4 generated), d (2 real, 1 generated), e (2 real, 1 generated)", stdout);
        var report = EvaluationReport.FromJson(File.ReadAllText(temp.File("out", "report.json")));
        Assert.Equal(2, report.Sampler!.Guidance);
        Assert.Equal(60, report.RealCount);
        var perClass = report.PerClass!;
        Assert.Equal("FID (ResNet-18 features) per class", perClass.Name);
        Assert.Equal(EvaluationTestData.FiveClasses, perClass.Classes.Select(c => c.Name));
        Assert.Equal([30, 20, 6, 2, 2], perClass.Classes.Select(c => c.RealCount));
        // Classes drawn in the real set's proportions although the data set is sorted by class.
        Assert.Equal([20, 14, 4, 1, 1], perClass.Classes.Select(c => c.GeneratedCount));
        Assert.All(perClass.Classes.Take(2), c => Assert.True(c.Fid > 0 && c.Note is null));
        Assert.All(perClass.Classes.Skip(2), c => Assert.True(c.Fid is null && c.Note!.Contains("too few images")));

        var unguided = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", conditional, "--data", data, "--steps", "1", "--n", "8",
            "--kid-subsets", "2", "--out", Folder(temp, "out-unguided"));
        Assert.True(unguided.Code == 0, unguided.Err);
        Assert.Null(EvaluationReport.FromJson(File.ReadAllText(temp.File("out-unguided", "report.json"))).PerClass);

        var refused = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", plain, "--data", data, "--steps", "2", "--guidance", "2", "--n", "16", "--out", Folder(temp, "out2"));
        SpritesProcess.AssertCleanFailure(refused, "--guidance: this checkpoint was trained without classes (unconditional)");
    }

    [Fact]
    public void ABadRealSetIsOneClearError()
    {
        var result = SpritesProcess.Run(Directory.GetCurrentDirectory(), "evaluate", "--checkpoint", "model.safetensors", "--real", "test");
        SpritesProcess.AssertCleanFailure(result, "--real: unknown real set 'test': use all");
        Assert.DoesNotContain("Usage:", result.Out + result.Err);
    }

    [Fact]
    public void ADataSetWithOtherClassesIsOneClearError()
    {
        using var temp = new TempDir();
        string data = EvaluationTestData.WriteDataSet(temp, "data", [20, 20, 20], ["x", "y", "z"], seed: 25);
        string checkpoint = TestCheckpoints.Tiny(temp);
        var result = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", checkpoint, "--data", data, "--n", "4", "--out", Folder(temp, "out"));
        SpritesProcess.AssertCleanFailure(result, $"--data: the checkpoint {checkpoint} was trained on 5 classes (a, b, c, d, e), but {data} holds 3 classes (x, y, z)");
        Assert.Single((result.Out + result.Err).Split('\n'), line => line.StartsWith("error:", StringComparison.Ordinal));
        Assert.False(File.Exists(temp.File("out", "report.json")));
    }

    [Fact]
    public void DpmSolverTakesItsOwnDefaultStepCount()
    {
        using var temp = new TempDir();
        string checkpoint = TestCheckpoints.Tiny(temp);
        string data = EvaluationTestData.WriteDataSet(temp, "data", [4, 4, 4, 4, 4], EvaluationTestData.FiveClasses, seed: 26);
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", checkpoint, "--data", data, "--method", "dpm++2m",
            "--n", "8", "--kid-subsets", "2", "--out", Folder(temp, "out"));
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("FID (ResNet-18 features)", stdout);
        var sampler = EvaluationReport.FromJson(File.ReadAllText(temp.File("out", "report.json"))).Sampler!;
        Assert.Equal(("dpm++2m", 20), (sampler.Method, sampler.Steps));

        var eta = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", checkpoint, "--method", "dpm++2m", "--eta", "0.5");
        SpritesProcess.AssertCleanFailure(eta, "--eta applies to DDIM only");
    }

    [Fact]
    public void CheckpointModeReportsACorruptCheckpointByName()
    {
        using var temp = new TempDir();
        string checkpoint = Path.Combine(temp.Path, "model.safetensors");
        File.WriteAllBytes(checkpoint, [1, 2, 3]);
        var (code, _, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", checkpoint, "--n", "40", "--out", Folder(temp, "out"));
        Assert.Equal(1, code);
        Assert.Contains("model.safetensors", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void EtaIsRefusedForDdpmAsInSample()
    {
        var (code, _, stderr) = SpritesProcess.Run(Directory.GetCurrentDirectory(), "evaluate", "--checkpoint", "model.safetensors", "--method", "ddpm", "--eta", "0.5");
        Assert.Equal(1, code);
        Assert.Contains("--eta applies to DDIM only", stderr);
    }

    [Fact]
    public void ModesCannotBeMixed()
    {
        var (code, _, stderr) = SpritesProcess.Run(Directory.GetCurrentDirectory(), "evaluate", "--checkpoint", "a", "--real-dir", "b", "--fake-dir", "c");
        Assert.Equal(1, code);
        Assert.Contains("not both", stderr);
    }

    private sealed class Quiet : ITrainingObserver;

    private static string Folder(TempDir temp, string name) => Directory.CreateDirectory(temp.File(name)).FullName;

    private static double Distance(FeatureMatrix a, FeatureMatrix b) => Math.Sqrt(a.Values.Zip(b.Values, (x, y) => (x - y) * (x - y)).Sum());
}
