using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Data;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Tests.Cli;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Reliability;

/// <summary>Class 4: sizes from files and flags are bounded; class 7: values never break the formats that carry them.</summary>
public class FormatAndBoundsTests
{
    private static string RandomName(Random random)
    {
        string[] parts = ["cat", "dog", "\n", "\t", "\r", " ", "", "é", "\0", new string('x', 250), "a b", "\u0085", "🐱"];
        return string.Concat(Enumerable.Range(0, random.Next(0, 4)).Select(_ => parts[random.Next(parts.Length)]));
    }

    [Fact]
    public void EveryClassNameIsRejectedOrComesBackUnchanged()
    {
        var random = new Random(7);
        int refused = 0, kept = 0;
        for (int i = 0; i < 500; i++)
        {
            string name = RandomName(random);
            if (ClassNamesFile.Problem(name) is not null)
            {
                Assert.Throws<ArgumentException>(() => ClassNamesFile.Format(["ok", name]));
                refused++;
                continue;
            }
            using var dir = new TempDir();
            ClassNamesFile.Write(dir.File("classes.txt"), ["first", name]);
            Assert.Equal(["first", name], ClassNamesFile.Read(dir.File("classes.txt")));
            kept++;
        }
        Assert.True(refused > 100 && kept > 50, $"{refused} refused, {kept} kept");
    }

    [Fact]
    public void ImportRefusesFolderNamesThatWouldBreakClassesTxtAndEscapesFileNames()
    {
        using var dir = new TempDir();
        var png = Png.Encode(new RgbaImage(16, 16, new byte[16 * 16 * 4].Also(p => Array.Fill(p, (byte)200))));
        foreach (string bad in new[] { "a\nb", "tab\there", " ", new string('n', 220) })
        {
            string input = dir.File("in" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path.Combine(input, bad));
            File.WriteAllBytes(Path.Combine(input, bad, "x.png"), png);
            Directory.CreateDirectory(Path.Combine(input, "fine"));
            File.WriteAllBytes(Path.Combine(input, "fine", "y.png"), png);
            Assert.Contains("class name", Assert.Throws<InvalidDataException>(() => SpriteImporter.FromFolder(input, new ImportOptions())).Message);
        }
        // A file name with a tab and a line break is one escaped field of sources.tsv, and the set reads back.
        string ok = dir.File("ok");
        Directory.CreateDirectory(Path.Combine(ok, "cats"));
        File.WriteAllBytes(Path.Combine(ok, "cats", "a\tb\nc.png"), png);
        File.WriteAllBytes(Path.Combine(ok, "cats", "d.png"), png);
        SpriteImporter.FromFolder(ok, new ImportOptions()).WriteTo(dir.File("set"), overwrite: false);
        var lines = File.ReadAllLines(dir.File("set", ImportedSprites.SourcesFileName));
        Assert.Equal(3, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Equal(3, l.Split('\t').Length));
        Assert.Equal(["cats"], SpriteDataset.LoadDirectory(dir.File("set")).ClassNames);
    }

    [Theory]
    [InlineData("conditional", "yes")]
    [InlineData("conditional", "True")]
    [InlineData("conditional", "")]
    [InlineData("flip", "1")]
    public void AYesNoMetadataValueOtherThanTrueOrFalseIsRefusedNotReadAsFalse(string key, string value)
    {
        using var dir = new TempDir();
        string good = TestCheckpoints.Tiny(dir, "good.safetensors");
        var file = SafetensorsFile.Read(good);
        var writer = new SafetensorsWriter();
        foreach (string name in file.Names) writer.Add(name, file[name].DType == "I64" ? file[name].ToInt64().Select(v => (float)v).ToArray() : file[name].ToFloat32(), file[name].Shape);
        foreach (var (k, v) in file.Metadata) writer.Metadata[k] = v;
        writer.Metadata[key] = value;
        // flip is read with the training recipe, which needs its schedule key beside it.
        if (!writer.Metadata.ContainsKey("lr_schedule")) { writer.Metadata["lr_schedule"] = "constant"; writer.Metadata["lr_peak"] = "0.001"; }
        string path = dir.File("damaged.safetensors");
        writer.Save(path);
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains($"'{key}'", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void DamagedCheckpointMetadataIsRefusedBeforeAnythingIsAllocated()
    {
        using var dir = new TempDir();
        string good = TestCheckpoints.Tiny(dir, "good.safetensors");
        var file = SafetensorsFile.Read(good);
        var random = new Random(4);
        string[] keys = ["n_feat", "height", "in_channels", "n_cfeat", "timesteps", "class_names", "epoch", "step"];
        string[] values = ["0", "-8", "8", "16", "2147483648", "99999999999999999999", "1e9", "abc", "", "[\"a\\nb\"]", "[\"\"]", "[1,2]", "65536", "1024", "4"];
        int refused = 0;
        for (int i = 0; i < 120; i++)
        {
            string key = keys[random.Next(keys.Length)], value = values[random.Next(values.Length)];
            var writer = new SafetensorsWriter();
            foreach (string name in file.Names) writer.Add(name, file[name].DType == "I64" ? file[name].ToInt64().Select(v => (float)v).ToArray() : file[name].ToFloat32(), file[name].Shape);
            foreach (var (k, v) in file.Metadata) writer.Metadata[k] = v;
            writer.Metadata[key] = value;
            string path = dir.File($"c{i}.safetensors");
            writer.Save(path);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var error = Record.Exception(() => Checkpoint.Load(path));
            if (error is null) continue;
            refused++;
            Assert.IsType<InvalidDataException>(error);
            Assert.Contains(path, error.Message);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 200L << 20, $"{key}={value} allocated too much before refusing");
        }
        Assert.True(refused > 60, $"{refused} refused");
    }

    [Fact]
    public void FlagsAndFilesBeyondTheirBoundsAreOneErrorLine()
    {
        using var dir = new TempDir();
        TestCheckpoints.Tiny(dir, "m.safetensors");
        Npy.WriteFloat32(dir.File("nan.npy"), Enumerable.Repeat(float.NaN, 3 * 16 * 16).ToArray(), [1, 3, 16, 16]);
        File.WriteAllText(dir.File("dup.json"), "{\"epochs\": 1, \"epochs\": 2}");
        Directory.CreateDirectory(dir.File("run"));
        File.WriteAllText(dir.File("run", Trainer.ConfigFile), TrainingOptions.Cpu.ToJson());
        File.WriteAllText(dir.File("run", Trainer.LossesFile), "epoch,train_loss,val_loss,seconds,val_loss_ema\n1,0.5,0.4,1,\n2,zzz,0.4,1,\n");
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["sample", "--checkpoint", "m.safetensors", "--n", "4096", "--scale", "64", "--steps", "1"], "--n:"),
            (["sample", "--checkpoint", "m.safetensors", "--n", "5000"], "--n must be between"),
            (["sample", "--checkpoint", "m.safetensors", "--scale", "1000"], "--scale must be between"),
            (["sample", "--checkpoint", "m.safetensors", "--noise", "nan.npy"], "NaN"),
            (["train", "--n-feat", "100000", "--out", "big"], "--n-feat"),
            (["train", "--config", "dup.json", "--out", "dup"], "Duplicate"),
            (["evaluate", "--checkpoint", "m.safetensors", "--kid-subsets", "2000000000"], "--kid-subsets must be between"),
            (["evaluate", "--checkpoint", "m.safetensors", "--feature-batch", "1000000"], "--feature-batch must be between"),
            (["bench", "train-step", "--n-feat", "65536", "--steps", "1"], "--n-feat"),
        })
        {
            SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, args), expected);
        }
        Assert.False(Directory.Exists(dir.File("big")));
    }

    [Fact]
    public void DamagedLossesCsvIsRefusedOnResumeNamingTheLine()
    {
        var random = new Random(12);
        string[] damage = ["zzz", "", "NaN", "1e999", "-", "1;2", "\"0.5\""];
        using var dir = new TempDir();
        var options = new TrainingOptions { Data = BundledData.DefaultDirectory, NFeat = 8, Epochs = 1, BatchSize = 8, Limit = 24, Samples = 0, Output = dir.File("base") };
        new Trainer(options, new Quiet()).Run(CancellationToken.None);
        for (int i = 0; i < 25; i++)
        {
            string run = dir.File($"r{i}");
            Directory.CreateDirectory(run);
            foreach (string f in Directory.GetFiles(dir.File("base"))) File.Copy(f, Path.Combine(run, Path.GetFileName(f)));
            var rows = Enumerable.Range(1, 3).Select(e => new[] { $"{e}", "0.5", "0.4", "1.00", "" }).ToList();
            int row = random.Next(rows.Count), field = random.Next(4);
            rows[row][field] = damage[random.Next(damage.Length)];
            File.WriteAllText(Path.Combine(run, Trainer.LossesFile),
                "epoch,train_loss,val_loss,seconds,val_loss_ema\n" + string.Concat(rows.Select(r => string.Join(',', r) + "\n")));
            var trainer = new Trainer(options with { Output = run, Epochs = 2 }, new Quiet());
            var e = Assert.Throws<InvalidDataException>(() => trainer.Run(CancellationToken.None, resume: true));
            Assert.Contains($"line {row + 2}", e.Message);
        }
    }

    private sealed class Quiet : ITrainingObserver;
}
