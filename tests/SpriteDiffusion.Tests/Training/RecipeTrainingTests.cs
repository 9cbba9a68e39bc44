using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Data;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Generation;
using SpriteDiffusion.IO;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Tests.Data;
using SpriteDiffusion.Training;

namespace SpriteDiffusion.Tests.Training;

/// <summary>The recipe options in whole training runs: what they record, what they refuse, how they resume.</summary>
public class RecipeTrainingTests
{
    private sealed class Quiet : ITrainingObserver;

    private sealed class Recorder : ITrainingObserver
    {
        public List<string> Lines { get; } = [];
        public List<TrainingPlan> Plans { get; } = [];
        public void OnMessage(string line) => Lines.Add(line);
        public void OnPlanned(TrainingPlan plan) => Plans.Add(plan);
    }

    private static TrainingOptions Tiny(string output, int epochs = 2) => new TrainingOptions
    {
        Data = BundledData.DefaultDirectory, NFeat = 8, Epochs = epochs, BatchSize = 16, Limit = 120, Output = output, Seed = 11, Samples = 0,
    };

    [Fact]
    public void AVelocityRunRecordsItsRecipeAndSamplesWithEverySampler()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var (options, _) = TrainerTests.Recipe("all", run);
        new Trainer(options with { Epochs = 1 }, new Quiet()).Run(CancellationToken.None);

        var (model, info) = Checkpoint.Load(Path.Combine(run, Trainer.BestFile));
        Assert.Equal("v", info.Prediction);
        var recipe = info.Recipe!;
        Assert.Equal("min-snr", recipe.Loss);
        Assert.Equal(2, recipe.MinSnrGamma);
        Assert.Equal(new LearningRateSchedule(LearningRateDecay.Cosine, 1e-3, 3, 1e-5, 6), recipe.LearningRate);
        Assert.Equal(1, recipe.PlannedEpochs);
        Assert.Equal(100, recipe.EmaHalflife);
        Assert.Equal(Math.Pow(0.5, 16 / 100.0), info.EmaDecay);
        Assert.True(recipe.Flip);
        Assert.Equal(["Flags"], recipe.NoFlipClasses);
        string log = File.ReadAllText(Path.Combine(run, Trainer.LogFile));
        Assert.Contains("predicting v", log);
        Assert.Contains("min-SNR loss (gamma 2)", log);
        Assert.Contains("never flipping Flags", log);

        var generator = new SpriteGenerator(model, info) { ClipDenoised = true, Guidance = 3 };
        foreach (var (method, steps) in new[] { ("ddim", 10), ("dpm++2m", 5), ("ddpm", 1000) })
        {
            var sprites = generator.Generate(generator.CreateSampler(method, steps, 0), 4, new Rng(1), context: generator.OneHot([0, 3, 7, 8]));
            Assert.All(sprites, v => Assert.True(float.IsFinite(v) && Math.Abs(v) <= 1.01f, $"{method} gave {v}"));
        }
    }

    [Fact]
    public void ResumingWithMoreEpochsStretchesTheDecayAndAChangedTargetOrScheduleIsRefused()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var options = Tiny(run) with { LrSchedule = "cosine", WarmupSteps = 2, LrFloor = 1e-5 };
        new Trainer(options, new Quiet()).Run(CancellationToken.None);
        string resume = Path.Combine(run, Trainer.ResumeFile);
        var planned = Checkpoint.Load(resume).Info.Recipe!.LearningRate;
        Assert.Equal(12, planned.TotalSteps);
        // The optimiser's last rate, as the resume checkpoint saved it: the schedule drives Adam.
        Assert.Equal(((float)planned.At(11)).ToString("R", System.Globalization.CultureInfo.InvariantCulture), SafetensorsFile.Read(resume).Metadata["learning_rate"]);
        Assert.NotEqual(1e-3f, (float)planned.At(11));

        var v = Assert.Throws<InvalidDataException>(() => new Trainer(options with { Prediction = "v", Epochs = 3 }, new Quiet()).Run(CancellationToken.None, resume: true));
        Assert.Contains("same prediction target", v.Message);
        var linear = Assert.Throws<InvalidDataException>(() => new Trainer(options with { LrSchedule = "linear", Epochs = 3 }, new Quiet()).Run(CancellationToken.None, resume: true));
        Assert.Contains("a cosine schedule from 0.001 to 1E-05 after 2 warm-up steps", linear.Message);
        Assert.Throws<InvalidDataException>(() => new Trainer(options with { LrFloor = 0, Epochs = 3 }, new Quiet()).Run(CancellationToken.None, resume: true));

        var recorder = new Recorder();
        new Trainer(options with { Epochs = 4 }, recorder).Run(CancellationToken.None, resume: true);
        Assert.Contains(recorder.Lines, l => l.Contains("now ends after 4 epochs, not 2", StringComparison.Ordinal));
        var stretched = Checkpoint.Load(Path.Combine(run, Trainer.LastFile)).Info.Recipe!;
        // Finished at step 12, the end of its decay: the stretched plan starts there, at progress 1.
        Assert.Equal(planned.Replan(12, 24), stretched.LearningRate);
        Assert.Equal(4, stretched.PlannedEpochs);
    }

    [Fact]
    public void ATimeBudgetPlansTheEpochsAfterTheFirstAndConfigJsonKeepsThePlan()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var recorder = new Recorder();
        var (options, clock) = TrainerTests.Recipe("time-budget", run);
        var result = new Trainer(options, recorder) { Clock = clock }.Run(CancellationToken.None);
        Assert.Equal(3, result.EpochsCompleted);
        Assert.Equal(3, Assert.Single(recorder.Plans).Epochs);
        Assert.Contains(recorder.Lines, l => l.Contains("the first epoch took 2.0 s, so the run trains 3 epochs", StringComparison.Ordinal));
        var config = TrainingOptions.ResumeBase.Overlay(Path.Combine(run, Trainer.ConfigFile));
        Assert.Equal(3, config.Epochs);
        Assert.Equal(0.1, config.TimeBudgetMinutes);
        var recipe = Checkpoint.Load(Path.Combine(run, Trainer.LastFile)).Info.Recipe!;
        Assert.Equal(0.1, recipe.TimeBudgetMinutes);
        Assert.Equal(3, recipe.PlannedEpochs);
        // Held at the peak through epoch 1 (6 steps), then a cosine over the remaining 12.
        Assert.Equal((6L, 0.0, 18L), (recipe.LearningRate.DecayStartStep, recipe.LearningRate.DecayStartProgress, recipe.LearningRate.TotalSteps));
    }

    [Fact]
    public void BadRecipeOptionsAreRefusedInTheLibrarysTerms()
    {
        var both = Assert.Throws<ArgumentOutOfRangeException>(() => (new TrainingOptions { EmaHalflife = 5000 }).Validate());
        Assert.Equal(nameof(TrainingOptions.EmaHalflife), both.ParamName);
        Assert.Contains("not both", both.Message);
        (new TrainingOptions { EmaHalflife = 5000, EmaDecay = 0 }).Validate();

        foreach (var (bad, param) in new (TrainingOptions, string)[]
        {
            (new TrainingOptions { Prediction = "x0" }, nameof(TrainingOptions.Prediction)),
            (new TrainingOptions { Loss = "l1" }, nameof(TrainingOptions.Loss)),
            (new TrainingOptions { MinSnrGamma = 0 }, nameof(TrainingOptions.MinSnrGamma)),
            (new TrainingOptions { LrSchedule = "step" }, nameof(TrainingOptions.LrSchedule)),
            (new TrainingOptions { WarmupSteps = -1 }, nameof(TrainingOptions.WarmupSteps)),
            (new TrainingOptions { LrFloor = 0.01 }, nameof(TrainingOptions.LrFloor)),
            (new TrainingOptions { TimeBudgetMinutes = 0 }, nameof(TrainingOptions.TimeBudgetMinutes)),
            (new TrainingOptions { EmaDecay = 0, EmaHalflife = 0.5 }, nameof(TrainingOptions.EmaHalflife)),
            (new TrainingOptions { NoFlipClasses = [" "] }, nameof(TrainingOptions.NoFlipClasses)),
        })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(bad.Validate);
            Assert.Equal(param, e.ParamName);
            Assert.DoesNotContain("--", e.Message);
        }

        using var dir = new TempDir();
        var unknown = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(Tiny(dir.File("run")) with { NoFlipClasses = ["Flagz"] }, new Quiet()).Run(CancellationToken.None));
        Assert.Equal(nameof(TrainingOptions.NoFlipClasses), unknown.ParamName);
        Assert.Contains("8 'Flags'", unknown.Message);
    }

    [Fact]
    public void AConfigThatNamesOneWayOfAveragingReplacesTheOther()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("halflife.json"), "{\"ema_halflife\": 20000}");
        var halflife = TrainingOptions.Cpu.Overlay(dir.File("halflife.json"));
        Assert.Equal((0.0, 20000.0), (halflife.EmaDecay, halflife.EmaHalflife!.Value));
        halflife.Validate();
        File.WriteAllText(dir.File("decay.json"), "{\"ema_decay\": 0.99}");
        var decay = halflife.Overlay(dir.File("decay.json"));
        Assert.Equal(0.99, decay.EmaDecay);
        Assert.Null(decay.EmaHalflife);
        File.WriteAllText(dir.File("both.json"), "{\"ema_decay\": 0.99, \"ema_halflife\": 20000}");
        Assert.Throws<ArgumentOutOfRangeException>(TrainingOptions.Cpu.Overlay(dir.File("both.json")).Validate);

        // The recipe's keys are written with the rest, and an older config without them resumes as the seed's recipe.
        string json = TrainingOptions.Cpu.ToJson();
        foreach (string key in new[] { "prediction", "loss", "min_snr_gamma", "lr_schedule", "warmup_steps", "lr_floor", "time_budget_minutes", "ema_halflife", "no_flip_classes" })
            Assert.Contains($"\"{key}\"", json);
        File.WriteAllText(dir.File("old.json"), "{\"n_feat\": 8, \"epochs\": 3}");
        var old = TrainingOptions.ResumeBase.Overlay(dir.File("old.json"));
        Assert.Equal(("eps", "mse", "constant", 0, 0.0), (old.Prediction, old.Loss, old.LrSchedule, old.WarmupSteps, old.LrFloor));
        Assert.Null(old.EmaHalflife);
        Assert.Empty(old.NoFlipClasses);
        Assert.Equal(("linear", 64), (old.Schedule, old.BatchSize));
    }

    [Fact]
    public void TheCpuAndQuickPresetsAreTheMeasuredRecipesAndTheSeedPresetKeepsTheSeeds()
    {
        var cpu = TrainingOptions.Cpu;
        Assert.Equal(("v", "min-snr", "linear", "constant", 0, 0.0), (cpu.Prediction, cpu.Loss, cpu.Schedule, cpu.LrSchedule, cpu.WarmupSteps, cpu.LrFloor));
        Assert.Equal((48, 64, 108, 0.995, "cpu"), (cpu.NFeat, cpu.BatchSize, cpu.Epochs, cpu.EmaDecay, cpu.Preset));
        var quick = TrainingOptions.FromPreset("quick");
        Assert.Equal(("v", "min-snr", "cosine", "cosine", 100, 1e-5), (quick.Prediction, quick.Loss, quick.Schedule, quick.LrSchedule, quick.WarmupSteps, quick.LrFloor));
        Assert.Equal((32, 32, 27, 0.995, "quick"), (quick.NFeat, quick.BatchSize, quick.Epochs, quick.EmaDecay, quick.Preset));
        var seed = TrainingOptions.SeedPreset;
        Assert.Equal(("eps", "mse", "linear", "constant", 0), (seed.Prediction, seed.Loss, seed.Schedule, seed.LrSchedule, seed.WarmupSteps));
    }
}
