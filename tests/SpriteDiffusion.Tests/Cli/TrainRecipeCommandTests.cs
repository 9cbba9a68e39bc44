using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Cli;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Tests.Data;

namespace SpriteDiffusion.Tests.Cli;

/// <summary>The recipe flags of `sprites train`: they reach config.json and the checkpoint, and mistakes fail cleanly.</summary>
public class TrainRecipeCommandTests
{
    [Fact]
    public void EveryRecipeOptionHasAFlag()
    {
        foreach (var bad in new[]
        {
            new TrainingOptions { Prediction = "x" }, new TrainingOptions { Loss = "x" }, new TrainingOptions { MinSnrGamma = -1 },
            new TrainingOptions { LrSchedule = "x" }, new TrainingOptions { WarmupSteps = -1 }, new TrainingOptions { LrFloor = 1 },
            new TrainingOptions { TimeBudgetMinutes = -1 }, new TrainingOptions { EmaHalflife = 100 }, new TrainingOptions { NoFlipClasses = [""] },
        })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(bad.Validate);
            Assert.Matches("^--[a-z-]+: ", ErrorMessages.ForUser(e, "train"));
            Assert.DoesNotContain("--", e.Message);
        }
        var both = Assert.Throws<ArgumentOutOfRangeException>((new TrainingOptions { EmaHalflife = 100 }).Validate);
        Assert.StartsWith("--ema-halflife: the weight average takes either a decay per step or a half-life in images, not both", ErrorMessages.ForUser(both, "train"));
    }

    [Fact]
    public void ConflictingOrUnknownRecipeFlagsFailCleanly()
    {
        using var dir = new TempDir();
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "train", "--ema-halflife", "5000", "--ema-decay", "0.99", "--out", "a"), "--ema-halflife");
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "train", "--time-budget", "5", "--epochs", "3", "--out", "b"), "--time-budget");
        // A choice outside the list is the parser's own refusal, which names the choices.
        var (code, _, err) = SpritesProcess.Run(dir.Path, "train", "--prediction", "x0", "--out", "c");
        Assert.NotEqual(0, code);
        Assert.Contains("'x0' not recognized", err);
        SpritesProcess.AssertCleanFailure(SpritesProcess.Run(dir.Path, "train", "--n-feat", "8", "--limit", "60", "--batch", "16", "--epochs", "1",
            "--samples", "0", "--no-flip-classes", "Flags,Flagz", "--out", "d"), "--no-flip-classes: unknown class 'Flagz'");
        Assert.False(File.Exists(dir.File("a/config.json")) || File.Exists(dir.File("b/config.json")));
    }

    [Fact]
    public void ATinyRunWithEveryRecipeFlagTrainsRecordsAndSamples()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var result = SpritesProcess.Run(dir.Path, "train", "--n-feat", "8", "--limit", "120", "--batch", "16", "--epochs", "1", "--samples", "2",
            "--prediction", "v", "--loss", "min-snr", "--min-snr-gamma", "4", "--lr-schedule", "linear", "--warmup-steps", "2", "--lr-floor", "1e-5",
            "--ema-halflife", "400", "--no-flip-classes", "Flags, 7", "--out", run);
        Assert.True(result.Code == 0, result.Out + result.Err);
        var config = TrainingOptions.ResumeBase.Overlay(Path.Combine(run, Trainer.ConfigFile));
        Assert.Equal(("v", "min-snr", 4.0, "linear", 2, 1e-5), (config.Prediction, config.Loss, config.MinSnrGamma, config.LrSchedule, config.WarmupSteps, config.LrFloor));
        Assert.Equal((0.0, 400.0), (config.EmaDecay, config.EmaHalflife!.Value));
        Assert.Equal(["Flags", "7"], config.NoFlipClasses);
        var (_, info) = Checkpoint.Load(Path.Combine(run, Trainer.BestFile));
        Assert.Equal("v", info.Prediction);
        Assert.Equal(["Symbols", "Flags"], info.Recipe!.NoFlipClasses);
        Assert.True(File.Exists(Path.Combine(run, "samples_ddim50.png")));
        Assert.True(File.Exists(Path.Combine(run, "samples_ddpm1000.png")));
    }
}
