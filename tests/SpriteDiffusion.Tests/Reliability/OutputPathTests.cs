using SpriteDiffusion.Cli;
using SpriteDiffusion.Cli.Commands;
using SpriteDiffusion.Data;
using SpriteDiffusion.IO;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Tests.Cli;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Reliability;

/// <summary>Class 1: an output never destroys an input, a file of another kind, a special file or another kind of folder.</summary>
public class OutputPathTests
{
    [Fact]
    public void EverySpellingOfAnInputIsRefusedAsAnOutputAndFreshNamesAreNot()
    {
        var random = new Random(15);
        int refused = 0, allowed = 0;
        for (int trial = 0; trial < 12; trial++)
        {
            using var dir = new TempDir();
            string input = dir.File($"in{trial}.png");
            File.WriteAllBytes(input, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
            foreach (string alias in Cases.Aliases(dir, input, random, 25))
            {
                var kind = (OutputKind)random.Next(6);
                var e = Assert.Throws<UserError>(() => OutputGuard.File(alias, "--out", kind, new OutputGuard.Input(input, "--checkpoint")));
                Assert.Contains("--checkpoint reads", e.Message);
                refused++;
                string fresh = Path.Combine(Path.GetDirectoryName(alias)!, Cases.FreshName(random, ".png"));
                OutputGuard.File(fresh, "--out", OutputKind.Png, new OutputGuard.Input(input, "--checkpoint"));
                allowed++;
            }
            Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.tmp"));
        }
        Assert.True(refused >= 300 && allowed >= 300);
    }

    [Fact]
    public void ExistingFilesOfAnotherKindAreNeverReplaced()
    {
        using var dir = new TempDir();
        var random = new Random(3);
        var signatures = new Dictionary<OutputKind, byte[]>
        {
            [OutputKind.Png] = [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10],
            [OutputKind.Npy] = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0],
            [OutputKind.Json] = "{\"a\": 1}"u8.ToArray(),
            [OutputKind.Safetensors] = [8, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}'],
            [OutputKind.Onnx] = [0x08, 0x07, 0x12, 0x01],
        };
        for (int i = 0; i < 200; i++)
        {
            var existing = (OutputKind)random.Next(5);
            var written = (OutputKind)random.Next(5);
            string path = dir.File($"f{i}");
            File.WriteAllBytes(path, signatures[existing]);
            if (existing == written || (existing == OutputKind.Json && written == OutputKind.Text))
                OutputGuard.File(path, "--out", written);
            else
                Assert.Contains("is not a", Assert.Throws<UserError>(() => OutputGuard.File(path, "--out", written)).Message);
        }
    }

    [Fact]
    public void SpecialFilesAndSystemPathsAreRefusedAsOutputs()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        Cases.MakeFifo(dir.File("fifo"));
        File.CreateSymbolicLink(dir.File("null.png"), "/dev/null");
        foreach (string path in new[] { "/dev/null", "/dev/zero", "/dev/full", "/proc/self/status", "/proc/new.png", "/sys/x.png", dir.File("fifo"), dir.File("null.png") })
        {
            foreach (var kind in Enum.GetValues<OutputKind>())
                Assert.Throws<UserError>(() => OutputGuard.File(path, "--out", kind));
            Assert.Throws<UserError>(() => OutputGuard.Folder(path, "--out", FolderKind.Plain, true, null));
        }
        // And AtomicFile itself, under every command: a link to a device is not written through.
        Assert.Throws<IOException>(() => AtomicFile.WriteAllText(dir.File("null.png"), "x"));
        Assert.Throws<IOException>(() => AtomicFile.WriteAllText(dir.File("fifo"), "x"));
    }

    [Fact]
    public void FoldersHoldingAnotherKindAreRefusedAndTheirOwnKindOnlyWhenAllowed()
    {
        var markers = new (string Name, FolderKind Kind)[]
        {
            (Trainer.BestFile, FolderKind.Run), (Trainer.ConfigFile, FolderKind.Run), (Trainer.LossesFile, FolderKind.Run), (Trainer.PlotFile, FolderKind.Run),
            ("samples_ddim50.png", FolderKind.Run), (Trainer.LogFile, FolderKind.Run),
            (SpriteDataset.ImagesFileName, FolderKind.DataSet), (SpriteDataset.LabelsFileName, FolderKind.DataSet),
            ("model.safetensors", FolderKind.Model), ("best_model.pth", FolderKind.Model), ("u.onnx", FolderKind.Model),
            (OutputGuard.EvaluationReportFile, FolderKind.Evaluation), ("notes.txt", FolderKind.Plain), ("sprite_000.png", FolderKind.Plain),
        };
        var random = new Random(7);
        using var root = new TempDir();
        for (int i = 0; i < 300; i++)
        {
            string folder = root.File($"d{i}");
            Directory.CreateDirectory(folder);
            var held = new HashSet<FolderKind>();
            foreach (var (name, kind) in markers.Where(_ => random.Next(6) == 0))
            {
                File.WriteAllText(Path.Combine(folder, name), "x");
                if (kind != FolderKind.Plain) held.Add(kind);
            }
            var own = (FolderKind)random.Next(5);
            bool replace = random.Next(2) == 0;
            bool allowed = held.All(k => k == own && replace);
            Assert.Equal(held.Order(), OutputGuard.Holds(folder).Order());
            var error = Record.Exception(() => OutputGuard.Folder(folder, "--out", own, replace, "--force replaces it"));
            Assert.True(allowed == (error is null), $"{string.Join(",", held)} own {own} replace {replace}: {error?.Message}");
            if (error is not null) Assert.IsType<UserError>(error);
        }
    }

    [Fact]
    public void TheIssuesExamplesThroughTheRealExecutable()
    {
        using var dir = new TempDir();
        string model = TestCheckpoints.Tiny(dir, "m.safetensors");
        byte[] before = File.ReadAllBytes(model);
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "sample", "--checkpoint", "m.safetensors", "--out", "m.safetensors", "--steps", "2", "--n", "1"), "--checkpoint reads");
        Assert.Equal(before, File.ReadAllBytes(model));

        Directory.CreateDirectory(dir.File("d"));
        var data = SpriteDataset.LoadDirectory(BundledData.DefaultDirectory).Subset(12, 1);
        var bytes = new byte[data.Count * 16 * 16 * 3];
        for (int i = 0; i < data.Count; i++) data.CopyPixels(i, bytes.AsSpan(i * 768, 768));
        Npy.Write<byte>(dir.File("d", "images.npy"), bytes, [data.Count, 16, 16, 3]);
        var labels = new double[data.Count * data.NumClasses];
        for (int i = 0; i < data.Count; i++) labels[i * data.NumClasses + data.Labels[i]] = 1;
        Npy.Write<double>(dir.File("d", "labels.npy"), labels, [data.Count, data.NumClasses]);
        byte[] images = File.ReadAllBytes(dir.File("d", "images.npy"));
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "data", "show", "d", "-o", "d/images.npy"), "DATA reads");
        Assert.Equal(images, File.ReadAllBytes(dir.File("d", "images.npy")));

        // One run per command that writes: every one refuses before work, and nothing is changed.
        File.Copy(model, dir.File("models", "m.safetensors").Also(p => Directory.CreateDirectory(Path.GetDirectoryName(p)!)));
        Cases.MakeFifo(dir.File("fifo"));
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["sample", "--checkpoint", "m.safetensors", "--out", "/dev/null"], "a device"),
            (["sample", "--checkpoint", "m.safetensors", "--out", "fifo"], "FIFO"),
            (["sample", "--checkpoint", "m.safetensors", "--each", "d"], "a data set"),
            (["convert", "m.safetensors", "models/../m.safetensors"], "IN reads"),
            (["export", "m.safetensors", "--onnx", "m.safetensors"], "CHECKPOINT reads"),
            (["data", "import", "d", "--out", "models"], "a model"),
            (["train", "--data", "d", "--out", "d", "--force"], "--data reads"),
            (["train", "--data", "d", "--out", "models"], "a model"),
            (["evaluate", "--checkpoint", "m.safetensors", "--data", "d", "--out", "models"], "a model"),
            (["sample", "--checkpoint", "fifo"], "FIFO"),
        })
        {
            SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, args), expected);
        }
        Assert.Equal(before, File.ReadAllBytes(model));
        Assert.Equal(images, File.ReadAllBytes(dir.File("d", "images.npy")));
        Assert.Equal(["images.npy", "labels.npy"], Directory.GetFiles(dir.File("d")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void WritingThroughALinkWritesItsTargetAndKeepsTheLink()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("real"));
        File.WriteAllText(dir.File("real", "a.txt"), "old");
        File.CreateSymbolicLink(dir.File("a.txt"), Path.Combine("real", "a.txt"));
        File.CreateSymbolicLink(dir.File("dangling.txt"), Path.Combine("real", "new.txt"));
        AtomicFile.WriteAllText(dir.File("a.txt"), "new");
        AtomicFile.WriteAllText(dir.File("dangling.txt"), "made");
        Assert.NotNull(new FileInfo(dir.File("a.txt")).LinkTarget);
        Assert.Equal("new", File.ReadAllText(dir.File("real", "a.txt")));
        Assert.Equal("made", File.ReadAllText(dir.File("real", "new.txt")));
        var output = new StringWriter();
        var stdout = Console.Out;
        Console.SetOut(output);
        try { OutputGuard.File(dir.File("a.txt"), "--out", OutputKind.Text); }
        finally { Console.SetOut(stdout); }
        Assert.Contains($"writing {FileSystemPaths.Resolve(dir.File("real", "a.txt"))}", output.ToString());
    }
}

internal static class AlsoExtension
{
    public static T Also<T>(this T value, Action<T> action) { action(value); return value; }
}
