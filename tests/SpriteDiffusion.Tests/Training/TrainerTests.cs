using SpriteDiffusion.Data;
using SpriteDiffusion.IO;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Training;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Checkpoints;

namespace SpriteDiffusion.Tests.Training;

public class TrainerTests
{
    private static TrainingOptions Tiny(string output) => new TrainingOptions
    {
        Data = BundledData.DefaultDirectory, NFeat = 8, Epochs = 2, BatchSize = 16, Limit = 120, Output = output, Seed = 11, Samples = 0,
    };

    private sealed class CancelAfter(int steps, CancellationTokenSource source) : ITrainingObserver
    {
        public void OnStep(StepReport report)
        {
            if (report.GlobalStep == steps) source.Cancel();
        }
    }

    private sealed class Quiet : ITrainingObserver;

    private static Dictionary<string, float[]> Tensors(string path)
    {
        var file = SafetensorsFile.Read(path);
        return file.Names.ToDictionary(n => n, n => file[n].DType == "I64" ? file[n].ToInt64().Select(v => (float)v).ToArray() : file[n].ToFloat32());
    }

    /// <summary>The seed's recipe, each recipe option on its own, and all of them together.</summary>
    public static TheoryData<string> Recipes() => ["seed", "v", "min-snr", "cosine", "linear", "ema-halflife", "no-flip", "all", "time-budget"];

    /// <summary>Tiny's options with the named recipe; a time budget comes with a fake clock, so that its plan is reproducible.</summary>
    internal static (TrainingOptions Options, TimeProvider Clock) Recipe(string name, string output)
    {
        var tiny = Tiny(output);
        var options = name switch
        {
            "seed" => tiny,
            "v" => tiny with { Prediction = "v" },
            "min-snr" => tiny with { Loss = "min-snr", MinSnrGamma = 5 },
            "cosine" => tiny with { LrSchedule = "cosine", WarmupSteps = 3, LrFloor = 1e-5 },
            "linear" => tiny with { LrSchedule = "linear", WarmupSteps = 2, LrFloor = 1e-4 },
            "ema-halflife" => tiny with { EmaDecay = 0, EmaHalflife = 100 },
            "no-flip" => tiny with { NoFlipClasses = ["Flags", "7"] },
            "all" => tiny with
            {
                Prediction = "v", Loss = "min-snr", MinSnrGamma = 2, LrSchedule = "cosine", WarmupSteps = 3, LrFloor = 1e-5,
                EmaDecay = 0, EmaHalflife = 100, NoFlipClasses = ["Flags"],
            },
            // Each clock reading is a second later: a 2-second epoch (training, then validation) in
            // a budget of 6 seconds plans 3 epochs.
            "time-budget" => tiny with { TimeBudgetMinutes = 0.1, LrSchedule = "cosine", LrFloor = 1e-5 },
            _ => throw new ArgumentException(name),
        };
        return (options, new TickingClock());
    }

    internal sealed class TickingClock : TimeProvider
    {
        private long _now;
        public override long TimestampFrequency => 1;
        public override long GetTimestamp() => ++_now;
    }

    [Theory]
    [MemberData(nameof(Recipes))]
    public void AResumedRunEqualsAnUninterruptedOneBitForBit(string recipe)
    {
        using var dir = new TempDir();
        string straight = dir.File("straight"), resumed = dir.File("resumed");
        var (options, clock) = Recipe(recipe, straight);
        var full = new Trainer(options, new Quiet()) { Clock = clock }.Run(CancellationToken.None);
        Assert.False(full.Interrupted);

        // Mid-epoch 1, or mid-epoch 2 for the time budget: its plan is made at the end of epoch 1.
        int stopAt = recipe == "time-budget" ? 8 : 4;
        using var cts = new CancellationTokenSource();
        (options, clock) = Recipe(recipe, resumed);
        var first = new Trainer(options, new CancelAfter(stopAt, cts)) { Clock = clock }.Run(cts.Token);
        Assert.True(first.Interrupted);
        Assert.True(File.Exists(Path.Combine(resumed, Trainer.ResumeFile)));
        var second = new Trainer(options, new Quiet()) { Clock = clock }.Run(CancellationToken.None, resume: true);
        Assert.False(second.Interrupted);
        if (recipe == "time-budget") Assert.Equal(3, second.EpochsCompleted);

        var a = Tensors(Path.Combine(straight, Trainer.LastFile));
        var b = Tensors(Path.Combine(resumed, Trainer.LastFile));
        Assert.Equal(158, a.Keys.Count(k => !k.StartsWith(Checkpoint.EmaPrefix, StringComparison.Ordinal)));
        Assert.Equal(158 - 18, a.Keys.Count(k => k.StartsWith(Checkpoint.EmaPrefix, StringComparison.Ordinal))); // all but the 18 BatchNorm counters
        foreach (var (name, values) in a) Assert.True(values.AsSpan().SequenceEqual(b[name]), $"{name} differs after resuming");
        // Every column but the wall time: train, validation and EMA validation losses.
        static IEnumerable<string> Losses(string run) => File.ReadAllText(Path.Combine(run, Trainer.LossesFile)).Split('\n')
            .Select(l => l.Split(',')).Select(f => string.Join(',', f.Where((_, i) => i != 3)));
        Assert.Equal(Losses(straight), Losses(resumed));
        Assert.All(Losses(straight).Skip(1).Where(l => l.Length > 0), l => Assert.Equal(4, l.Split(',').Count(v => v.Length > 0)));
        // The same recipe recorded, learning-rate plan included.
        Assert.Equal(SafetensorsFile.Read(Path.Combine(straight, Trainer.LastFile)).Metadata, SafetensorsFile.Read(Path.Combine(resumed, Trainer.LastFile)).Metadata);
    }

    [Fact]
    public void ARunWritesItsOutputsAndRefusesToOverwriteThem()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var result = new Trainer(Tiny(run) with { Epochs = 1 }, new Quiet()).Run(CancellationToken.None);
        foreach (var f in new[] { Trainer.BestFile, Trainer.LastFile, Trainer.ResumeFile, Trainer.ConfigFile, Trainer.LossesFile, Trainer.PlotFile, Trainer.LogFile })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        Assert.True(double.IsFinite(result.BestValidationLoss));
        var (model, info) = Checkpoint.Load(result.BestCheckpoint);
        Assert.Equal(8, model.Config.NFeat);
        Assert.Equal(9, info.ClassNames.Length);
        Assert.Equal("t/T", info.TimeInput);
        Assert.Equal(1, info.Epoch);
        var png = Png.Read(Path.Combine(run, Trainer.PlotFile));
        Assert.True(png.Width >= 400);

        var again = Assert.Throws<IOException>(() => new Trainer(Tiny(run), new Quiet()).Run(CancellationToken.None));
        Assert.Contains("already holds a training run", again.Message);
    }

    [Fact]
    public void SamplesEveryEpochLeaveTheTrainedWeightsExactlyAsTheyWere()
    {
        using var dir = new TempDir();
        string plain = dir.File("plain"), watched = dir.File("watched");
        new Trainer(Tiny(plain), new Quiet()).Run(CancellationToken.None);
        new Trainer(Tiny(watched) with { SampleEvery = 1, Samples = 6 }, new Quiet()).Run(CancellationToken.None);
        foreach (int epoch in new[] { 1, 2 })
        {
            var grid = Png.Read(Path.Combine(watched, Trainer.EpochSamplesFile(epoch)));
            Assert.Equal(3 * 16 * 4 + 4, grid.Width); // 3 columns of 6 sprites at 4x, 1-pixel gaps
        }
        Assert.False(File.Exists(Path.Combine(plain, Trainer.EpochSamplesFile(1))));
        Assert.Equal(Tensors(Path.Combine(plain, Trainer.LastFile)), Tensors(Path.Combine(watched, Trainer.LastFile)));
        Assert.Equal(nameof(TrainingOptions.SampleEvery), Assert.Throws<ArgumentOutOfRangeException>(() => (new TrainingOptions { SampleEvery = 0 }).Validate()).ParamName);
    }

    [Fact]
    public void ANonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        new Trainer(Tiny(run) with { Epochs = 1 }, new Quiet()).Run(CancellationToken.None);
        // A finite but huge output weight: the next forward pass overflows, as a run that blew up would.
        string resume = Path.Combine(run, Trainer.ResumeFile);
        RewriteTensor(resume, "out.3.weight", v => v * 3e38f);

        var e = Assert.Throws<TrainingDivergedException>(() => new Trainer(Tiny(run), new Quiet()).Run(CancellationToken.None, resume: true));
        Assert.False(double.IsFinite(e.Loss));
        Assert.Equal((2, 1), (e.Epoch, e.Batch));
        Assert.Equal(Path.Combine(run, Trainer.LastFile), e.LastGoodCheckpoint);
        Assert.Contains(Trainer.LastFile, e.Message);
        var (_, info) = Checkpoint.Load(Path.Combine(run, Trainer.LastFile));
        Assert.Equal(1, info.Epoch);
    }

    /// <summary>Writes the file again with one float tensor mapped through <paramref name="change"/>.</summary>
    private static void RewriteTensor(string path, string name, Func<float, float> change)
    {
        var file = SafetensorsFile.Read(path);
        var writer = new SafetensorsWriter();
        foreach (var (key, value) in file.Metadata) writer.Metadata[key] = value;
        foreach (string n in file.Names)
        {
            var t = file[n];
            if (t.DType == "I64") writer.AddInt64(n, t.ToInt64(), t.Shape);
            else writer.Add(n, n == name ? t.ToFloat32().Select(change).ToArray() : t.ToFloat32(), t.Shape);
        }
        writer.Save(path);
    }

    [Fact]
    public void CosineUnconditionalRunsWithoutAnAverageRecordWhatTheyAre()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var options = Tiny(run) with { Epochs = 1, Schedule = "cosine", Conditional = false, EmaDecay = 0 };
        new Trainer(options, new Quiet()).Run(CancellationToken.None);
        var file = SafetensorsFile.Read(Path.Combine(run, Trainer.BestFile));
        Assert.Equal(158, file.Names.Count);
        var (_, info) = Checkpoint.Load(Path.Combine(run, Trainer.BestFile));
        Assert.Equal("cosine", info.Schedule);
        Assert.False(info.Conditional);
        Assert.Null(info.EmaDecay);
        Assert.Equal("cosine", new SpriteDiffusion.Generation.SpriteGenerator(new SpriteDiffusion.Model.UNet(info.Model), info).Schedule.Name);
        Assert.DoesNotContain("val_loss_ema=", File.ReadAllText(Path.Combine(run, Trainer.LogFile)));
    }

    [Fact]
    public void TheSeedPresetIsUnconditionalWithoutAnAverageAndBadNewOptionsAreRefused()
    {
        Assert.False(TrainingOptions.SeedPreset.Conditional);
        Assert.Equal(0, TrainingOptions.SeedPreset.EmaDecay);
        Assert.True(TrainingOptions.Cpu.Conditional);
        Assert.Equal(nameof(TrainingOptions.EmaDecay), Assert.Throws<ArgumentOutOfRangeException>(() => (new TrainingOptions { EmaDecay = 1 }).Validate()).ParamName);
        Assert.Equal(nameof(TrainingOptions.ContextDropout), Assert.Throws<ArgumentOutOfRangeException>(() => (new TrainingOptions { ContextDropout = 1.5 }).Validate()).ParamName);
        Assert.Contains("cosine", Assert.Throws<ArgumentOutOfRangeException>(() => (new TrainingOptions { Schedule = "sigmoid" }).Validate()).Message);
    }

    [Fact]
    public void ResumingWithAnotherConditioningOrAverageIsRefusedAndOldConfigsResumeAsTheyRan()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        using var cts = new CancellationTokenSource();
        new Trainer(Tiny(run), new CancelAfter(2, cts)).Run(cts.Token);
        var noAverage = Assert.Throws<InvalidDataException>(() => new Trainer(Tiny(run) with { EmaDecay = 0 }, new Quiet()).Run(CancellationToken.None, resume: true));
        Assert.Contains("the same EMA decay", noAverage.Message);
        Assert.Throws<InvalidDataException>(() => new Trainer(Tiny(run) with { Conditional = false }, new Quiet()).Run(CancellationToken.None, resume: true));

        // A config.json from before conditional training and the average lacks both keys.
        File.WriteAllText(dir.File("old.json"), "{\"n_feat\": 8, \"epochs\": 3}");
        var old = TrainingOptions.ResumeBase.Overlay(dir.File("old.json"));
        Assert.False(old.Conditional);
        Assert.Equal(0, old.EmaDecay);
    }

    [Fact]
    public void ConfigFilesOverlayPresetsAndRejectUnknownKeys()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("c.json"), "{\"n_feat\": 32, \"epochs\": 3}");
        var o = TrainingOptions.SeedPreset.Overlay(dir.File("c.json"));
        Assert.Equal(32, o.NFeat);
        Assert.Equal(3, o.Epochs);
        Assert.Equal(128, o.BatchSize);
        File.WriteAllText(dir.File("bad.json"), "{\"n_fet\": 32}");
        Assert.Contains("n_fet", Assert.Throws<InvalidDataException>(() => TrainingOptions.Cpu.Overlay(dir.File("bad.json"))).Message);
        Assert.Equal(nameof(TrainingOptions.LearningRate), Assert.Throws<ArgumentOutOfRangeException>(() => (new TrainingOptions { LearningRate = -1 }).Validate()).ParamName);
    }
}
