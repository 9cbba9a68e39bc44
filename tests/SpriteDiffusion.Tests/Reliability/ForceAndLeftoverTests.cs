using SpriteDiffusion.Data;
using SpriteDiffusion.IO;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Reliability;

/// <summary>Class 2: --force never merges runs; class 8: what a killed write leaves is cleaned up by the next one.</summary>
public class ForceAndLeftoverTests
{
    private static readonly string[] AllRunFiles =
        [Trainer.ResumeFile, Trainer.LastFile, Trainer.BestFile, Trainer.ConfigFile, Trainer.LossesFile, Trainer.PlotFile, Trainer.LogFile, "samples_epoch0001.png", "samples_ddim50.png"];

    private sealed class Killed : Exception;

    /// <summary>
    /// A kill after any number of moves leaves the folder with the old run minus (at least) its resume
    /// checkpoint, no new file, and the user's own files untouched; the next --force finishes the job.
    /// </summary>
    [Fact]
    public void AKillAtAnyMomentOfAReplacementLeavesNothingToResumeAndNoMix()
    {
        var random = new Random(2);
        int cases = 0;
        for (int trial = 0; trial < 40; trial++)
        {
            var present = AllRunFiles.Where(_ => random.Next(3) > 0).ToList();
            if (present.Count == 0) present.Add(Trainer.ConfigFile);
            for (int killAt = 0; killAt <= present.Count; killAt++, cases++)
            {
                using var dir = new TempDir();
                foreach (string f in present) File.WriteAllText(dir.File(f), "old " + f);
                File.WriteAllText(dir.File("my-notes.txt"), "mine");
                var files = Trainer.RunFiles(dir.Path);
                Assert.Equal(present.Order(), files.Order());
                int at = killAt;
                var e = Record.Exception(() => Trainer.ReplaceRun(dir.Path, files, i => { if (i == at) throw new Killed(); }));
                var left = Trainer.RunFiles(dir.Path);
                if (e is null) Assert.Empty(left);
                else
                {
                    // Nothing resumable survives the first move, and what is left is the old run's alone.
                    Assert.DoesNotContain(Trainer.ResumeFile, left);
                    Assert.All(left, f => Assert.Equal("old " + f, File.ReadAllText(dir.File(f))));
                    Assert.True(Directory.Exists(dir.File(Trainer.ReplacedFolder)));
                    Trainer.ReplaceRun(dir.Path, Trainer.RunFiles(dir.Path));
                    Assert.Empty(Trainer.RunFiles(dir.Path));
                }
                Assert.Equal("mine", File.ReadAllText(dir.File("my-notes.txt")));
            }
        }
        Assert.True(cases >= 200, $"{cases} cases");
    }

    [Fact]
    public void ForceReplacesTheWholeOldRunAndARunIsAnyOfItsFiles()
    {
        using var dir = new TempDir();
        string output = dir.File("run");
        var options = new TrainingOptions
        {
            Data = BundledData.DefaultDirectory, NFeat = 8, Epochs = 1, BatchSize = 16, Limit = 60, Output = output, Seed = 3, Samples = 0,
        };
        Directory.CreateDirectory(output);
        // An old run that had got further: its epoch-2 samples, two rows of losses, a resume point.
        foreach (string f in new[] { Trainer.ConfigFile, "samples_epoch0002.png", Trainer.ResumeFile })
            File.WriteAllText(Path.Combine(output, f), "old");
        File.WriteAllText(Path.Combine(output, Trainer.LossesFile), "epoch,train_loss,val_loss,seconds,val_loss_ema\n1,1,1,1,\n2,1,1,1,\n");
        foreach (string only in new[] { Trainer.ConfigFile, Trainer.LossesFile, "samples_epoch0002.png" })
        {
            using var probe = new TempDir();
            File.WriteAllText(probe.File(only), "x");
            var error = Assert.Throws<IOException>(() => new Trainer(options with { Output = probe.Path }, new Quiet()).Run(CancellationToken.None));
            Assert.Contains("already holds a training run", error.Message);
        }
        new Trainer(options, new Quiet()).Run(CancellationToken.None, force: true);
        Assert.False(File.Exists(Path.Combine(output, "samples_epoch0002.png")));
        Assert.False(Directory.Exists(Path.Combine(output, Trainer.ReplacedFolder)));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, Trainer.LossesFile)).Length);
        Assert.NotEqual("old", File.ReadAllText(Path.Combine(output, Trainer.ConfigFile)));
    }

    private sealed class Quiet : ITrainingObserver;

    [Fact]
    public void TemporaryFilesOfDeadWritersAreRemovedByTheNextWriteAndLiveOnesAreKept()
    {
        var random = new Random(8);
        using var dir = new TempDir();
        for (int i = 0; i < 200; i++)
        {
            string target = dir.File($"t{i % 7}.bin");
            string prefix = AtomicFile.TempPrefix(target);
            // Process ids far above any pid_max are never running.
            string dead = dir.File($"{prefix}{1_000_000_000 + random.Next(1_000_000)}.{Guid.NewGuid():N}{AtomicFile.TempSuffix}");
            string live = dir.File($"{prefix}{Environment.ProcessId}.{Guid.NewGuid():N}{AtomicFile.TempSuffix}");
            string other = dir.File($".unrelated{i}.tmp");
            File.WriteAllText(dead, "half");
            File.WriteAllText(live, "busy");
            File.WriteAllText(other, "theirs");
            var content = new byte[random.Next(0, 5000)];
            random.NextBytes(content);
            AtomicFile.WriteAllBytes(target, content);
            Assert.False(File.Exists(dead));
            Assert.True(File.Exists(live));
            Assert.True(File.Exists(other));
            Assert.Equal(content, File.ReadAllBytes(target));
            File.Delete(live);
        }
    }

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporaryFileAndNamesThePath()
    {
        var random = new Random(9);
        using var dir = new TempDir();
        for (int i = 0; i < 200; i++)
        {
            string target = dir.File($"f{i % 5}.png");
            var old = new byte[random.Next(1, 3000)];
            random.NextBytes(old);
            File.WriteAllBytes(target, old);
            int failAt = random.Next(0, 4000);
            var e = Assert.Throws<IOException>(() => AtomicFile.Write(target, s =>
            {
                var chunk = new byte[failAt];
                s.Write(chunk);
                throw new IOException("No space left on device", 28);
            }));
            Assert.Contains(target, e.Message);
            Assert.Contains("no space left", e.Message);
            Assert.Equal(old, File.ReadAllBytes(target));
            Assert.Empty(Directory.EnumerateFiles(dir.Path, "*" + AtomicFile.TempSuffix));
        }
    }

    [Fact]
    public void AKilledReplacementIsCleanedByTheNextRunInThatFolder()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("run", Trainer.ReplacedFolder));
        File.WriteAllText(dir.File("run", Trainer.ReplacedFolder, Trainer.BestFile), "old");
        var options = new TrainingOptions
        {
            Data = BundledData.DefaultDirectory, NFeat = 8, Epochs = 1, BatchSize = 16, Limit = 40, Output = dir.File("run"), Seed = 3, Samples = 0,
        };
        new Trainer(options, new Quiet()).Run(CancellationToken.None);
        Assert.False(Directory.Exists(dir.File("run", Trainer.ReplacedFolder)));
    }
}
