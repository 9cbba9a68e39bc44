using System.Text.Json;
using SpriteDiffusion.Evaluation;
using SpriteDiffusion.Tests.Cli;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Checkpoints;

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
        Assert.Equal(6, Directory.GetFiles(Path.Combine(output, "real"), "*.png").Length);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(output, "generated"), "*.png").Length);
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
    public void CheckpointModeGeneratesAndReports()
    {
        using var temp = new TempDir();
        string checkpoint = TestCheckpoints.Tiny(temp);
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", checkpoint, "--method", "ddim", "--steps", "3", "--eta", "0.5",
            "--seed", "3", "--n", "24", "--out", Folder(temp, "out"), "--keep-images");
        Assert.True(code == 0, stderr);
        Assert.Contains("FID (ResNet-18 features)", stdout);
        string report = File.ReadAllText(temp.File("out", "report.json"));
        Assert.Contains("ResNet-18", report);
        Assert.Contains("\"ddim\"", report);
    }

    [Fact]
    public void GuidedEvaluationDrawsTheRealClassesAndNeedsAConditionalCheckpoint()
    {
        using var temp = new TempDir();
        var model = new SpriteDiffusion.Model.UNet(new SpriteDiffusion.Model.UNetConfig(NFeat: 8, NCFeat: 9), seed: 2);
        string conditional = Path.Combine(temp.Path, "conditional.safetensors"), plain = Path.Combine(temp.Path, "plain.safetensors");
        SpriteDiffusion.Checkpoints.Checkpoint.Save(conditional, model, new SpriteDiffusion.Checkpoints.CheckpointInfo { Model = model.Config, Conditional = true, ContextDropout = 0.1 });
        SpriteDiffusion.Checkpoints.Checkpoint.Save(plain, model, new SpriteDiffusion.Checkpoints.CheckpointInfo { Model = model.Config });
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", conditional, "--steps", "2", "--guidance", "2",
            "--n", "16", "--out", Folder(temp, "out"));
        Assert.True(code == 0, stderr);
        Assert.Contains("guidance 2", stdout);
        Assert.Contains("\"guidance\": 2", File.ReadAllText(temp.File("out", "report.json")));

        var refused = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", plain, "--steps", "2", "--guidance", "2", "--n", "16", "--out", Folder(temp, "out2"));
        SpritesProcess.AssertCleanFailure(refused, "unconditional");
    }

    [Fact]
    public void DpmSolverTakesItsOwnDefaultStepCount()
    {
        using var temp = new TempDir();
        string checkpoint = TestCheckpoints.Tiny(temp);
        var (code, stdout, stderr) = SpritesProcess.Run(temp.Path, "evaluate", "--checkpoint", checkpoint, "--method", "dpm++2m",
            "--n", "8", "--out", Folder(temp, "out"));
        Assert.True(code == 0, stderr);
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

    private static string Folder(TempDir temp, string name) => Directory.CreateDirectory(temp.File(name)).FullName;
}
