using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.Training;
using SpriteDiffusion.Runs;
using SpriteDiffusion.Generation;

namespace SpriteDiffusion.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Starting hyper-parameters: cpu (default: n_feat 48, about 20 minutes on 2 cores, the recipe study's winner), quick (n_feat 32, about 3 minutes: the README's main job) or seed (SPEC section 6, GPU-class budget).", DefaultValueFactory = _ => "cpu" };
        preset.AcceptOnlyFromAmong("cpu", "quick", "seed");
        var config = new Option<string?>("--config") { Description = "A JSON file of options (same keys as the config.json a run writes); flags override it." };
        var data = new Option<string?>("--data") { Description = "Data-set folder with images.npy and labels.npy (default: the bundled data/twemoji16)." };
        var nFeat = new Option<int?>("--n-feat") { Description = "U-Net width (multiple of 8; 48 in the cpu preset, 32 in quick, 128 in seed)." };
        var epochs = new Option<int?>("--epochs") { Description = "Training epochs (108 in the cpu preset, 27 in quick, 100 in seed)." };
        var batch = new Option<int?>("--batch") { Description = "Images per step (64 in the cpu preset, 32 in quick, 128 in seed)." };
        var lr = new Option<double?>("--lr") { Description = "Adam learning rate." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for initialisation, shuffling and noise." };
        var flip = new Option<bool?>("--flip") { Description = "Random horizontal flips (true/false)." };
        var tileable = new Option<bool>("--tileable") { Description = "Pad every convolution circularly, so the model draws seamless tiles (recorded in the checkpoint; sampling and export follow it)." };
        var limit = new Option<int?>("--limit") { Description = "Use only this many images (quick experiments)." };
        var valFraction = new Option<double?>("--val-fraction") { Description = "Share of images held out for validation (default 0.1)." };
        var timesteps = new Option<int?>("--timesteps") { Description = "Diffusion steps T (default 1000)." };
        var timeInput = new Option<string?>("--time-input") { Description = "Time fed to the network: t/T (default) or raw (the seed's integer t)." };
        var conditional = new Option<bool?>("--conditional") { Description = "Train on the data set's classes as context, for class-guided sampling (true/false; default true, false in the seed preset)." };
        var contextDropout = new Option<double?>("--context-dropout") { Description = "Chance an image trains with the null context instead of its class (default 0.1)." };
        var emaDecay = new Option<double?>("--ema-decay") { Description = "Decay of the weight average kept beside the weights, used for sampling (default 0.995; 0 turns it off)." };
        var schedule = new Option<string?>("--schedule") { Description = "Noise schedule: linear (the cpu and seed presets', as the seed) or cosine (the quick preset's)." };
        var prediction = new Option<string?>("--prediction") { Description = "What the network learns to output: v (default) or eps (the noise, as the seed and the seed preset) -- v is the velocity sqrt(ab) eps - sqrt(1-ab) x0 of Salimans and Ho). Recorded in the checkpoint; sampling converts." };
        prediction.AcceptOnlyFromAmong([.. Prediction.Names]);
        var loss = new Option<string?>("--loss") { Description = "min-snr (default; Hang et al.: each timestep weighted as min(SNR, gamma) on the clean image) or mse (every timestep alike, as the seed preset)." };
        loss.AcceptOnlyFromAmong([.. LossWeights.Names]);
        var minSnrGamma = new Option<double?>("--min-snr-gamma") { Description = $"The gamma of --loss min-snr (default {LossWeights.DefaultGamma}, the paper's)." };
        var lrSchedule = new Option<string?>("--lr-schedule") { Description = "Learning rate after the warm-up: constant (the cpu and seed presets'), or cosine (the quick preset's) or linear decay from --lr to --lr-floor over the run's planned epochs." };
        lrSchedule.AcceptOnlyFromAmong([.. LearningRateSchedule.Names]);
        var warmupSteps = new Option<int?>("--warmup-steps") { Description = "Steps over which the learning rate rises linearly to --lr (100 in the quick preset, 0 in cpu and seed)." };
        var lrFloor = new Option<double?>("--lr-floor") { Description = "Learning rate a cosine or linear schedule decays to (1e-5 in the quick preset, 0 in cpu and seed)." };
        var timeBudget = new Option<double?>("--time-budget") { HelpName = "MINUTES", Description = "Train for about this many minutes instead of --epochs: the first epoch is timed and the run plans as many epochs as fit (the LR decay follows the plan)." };
        var emaHalflife = new Option<double?>("--ema-halflife") { HelpName = "IMAGES", Description = "Set the weight average by its half-life in training images instead of --ema-decay (decay per step 0.5^(batch / half-life), as EDM)." };
        var noFlipClasses = new Option<string?>("--no-flip-classes") { HelpName = "CLASSES", Description = "Classes never flipped, by name or index, comma-separated (e.g. \"Flags,Symbols\"): a mirrored flag or letter is not a sprite." };
        var samples = new Option<int?>("--samples") { Description = "Sprites drawn with DDIM and DDPM when training ends (0 to skip)." };
        var sampleEvery = new Option<int?>("--sample-every") { Description = "Also write samples_epochNNNN.png (DDIM, the weights sampling uses) every N epochs, to watch the run as it trains (sprites serve shows them)." };
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/<date-time>)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its resume checkpoint." };
        var force = new Option<bool>("--force") { Description = "Replace a run already in --out." };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: all cores)." };
        var command = new Command("train", "Train the seed U-Net with DDPM on a sprite data set, then draw samples with both samplers.")
        {
            preset, config, data, nFeat, epochs, batch, lr, seed, flip, tileable, limit, valFraction, timesteps, timeInput, conditional, contextDropout, emaDecay, schedule,
            prediction, loss, minSnrGamma, lrSchedule, warmupSteps, lrFloor, timeBudget, emaHalflife, noFlipClasses,
            samples, sampleEvery, output, resume, force, threads,
        };
        command.SetAction(r =>
        {
            TrainingOptions options;
            string? resumeDir = r.GetValue(resume);
            if (resumeDir is not null)
            {
                string saved = Path.Combine(resumeDir, Trainer.ConfigFile);
                if (!File.Exists(saved)) throw new UserError($"{resumeDir}: not a run folder (no {Trainer.ConfigFile}); nothing to resume.");
                options = TrainingOptions.ResumeBase.Overlay(saved) with { Output = resumeDir };
            }
            else
            {
                options = TrainingOptions.FromPreset(r.GetValue(preset)!);
                if (r.GetValue(config) is string path) options = options.Overlay(path);
                if (r.GetValue(timeBudget) is not null && r.GetValue(epochs) is not null)
                    throw new UserError("give either --epochs or --time-budget: a time budget plans the epochs itself.");
            }
            if (resumeDir is not null && r.GetValue(timeBudget) is not null)
                throw new UserError($"{resumeDir}: a resumed run keeps the length it planned; give --epochs to change it.");
            // One way of setting the average given alone replaces the other from the preset or config;
            // both given is refused by the options' validation.
            double? halflifeGiven = r.GetValue(emaHalflife), decayGiven = r.GetValue(emaDecay);
            if (halflifeGiven is not null && decayGiven is null) options = options with { EmaDecay = 0 };
            if (decayGiven is not null && halflifeGiven is null) options = options with { EmaHalflife = null };
            // --epochs on a time-budget run's resume replaces the plan with that many epochs.
            if (r.GetValue(epochs) is not null) options = options with { TimeBudgetMinutes = r.GetValue(timeBudget) };
            options = options with
            {
                Data = r.GetValue(data) ?? options.Data,
                NFeat = r.GetValue(nFeat) ?? options.NFeat,
                Epochs = r.GetValue(epochs) ?? options.Epochs,
                BatchSize = r.GetValue(batch) ?? options.BatchSize,
                LearningRate = r.GetValue(lr) ?? options.LearningRate,
                Seed = r.GetValue(seed) ?? options.Seed,
                Flip = r.GetValue(flip) ?? options.Flip,
                Tileable = r.GetValue(tileable) || options.Tileable,
                Limit = r.GetValue(limit) ?? options.Limit,
                ValidationFraction = r.GetValue(valFraction) ?? options.ValidationFraction,
                Timesteps = r.GetValue(timesteps) ?? options.Timesteps,
                TimeInput = r.GetValue(timeInput) ?? options.TimeInput,
                Conditional = r.GetValue(conditional) ?? options.Conditional,
                ContextDropout = r.GetValue(contextDropout) ?? options.ContextDropout,
                EmaDecay = r.GetValue(emaDecay) ?? options.EmaDecay,
                Schedule = r.GetValue(schedule) ?? options.Schedule,
                Prediction = r.GetValue(prediction) ?? options.Prediction,
                Loss = r.GetValue(loss) ?? options.Loss,
                MinSnrGamma = r.GetValue(minSnrGamma) ?? options.MinSnrGamma,
                LrSchedule = r.GetValue(lrSchedule) ?? options.LrSchedule,
                WarmupSteps = r.GetValue(warmupSteps) ?? options.WarmupSteps,
                LrFloor = r.GetValue(lrFloor) ?? options.LrFloor,
                TimeBudgetMinutes = r.GetValue(timeBudget) ?? options.TimeBudgetMinutes,
                EmaHalflife = r.GetValue(emaHalflife) ?? options.EmaHalflife,
                NoFlipClasses = r.GetValue(noFlipClasses) is string names
                    ? names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : options.NoFlipClasses,
                Samples = r.GetValue(samples) ?? options.Samples,
                SampleEvery = r.GetValue(sampleEvery) ?? options.SampleEvery,
                Output = r.GetValue(output) ?? options.Output,
                Threads = r.GetValue(threads) ?? options.Threads,
            };
            // The samples drawn at the end use at most T DDIM steps: a short schedule is not an error in a flag train does not have.
            if (options.DdimSteps > options.Timesteps) options = options with { DdimSteps = options.Timesteps };
            return Run(options, resumeDir is not null, r.GetValue(force));
        });
        return command;
    }

    private static int Run(TrainingOptions options, bool resume, bool force)
    {
        Trainer trainer;
        TrainingResult result;
        if (options.Output is { } output)
            OutputGuard.Folder(output, resume ? "--resume" : "--out", FolderKind.Run, replaceOwn: resume || force,
                "--resume continues it and --force replaces it", new OutputGuard.Input(options.Data, "--data"));
        var clock = Stopwatch.StartNew();
        using (var interrupt = new Interrupt())
        {
            (trainer, result) = TrainingProgress.Run(options, interrupt.Token, resume, force);
        }
        var o = trainer.Options;
        string dir = trainer.OutputDirectory;
        if (result.Interrupted)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]interrupted[/]: progress saved in {Path.Combine(dir, Trainer.ResumeFile)}; continue with [bold]sprites train --resume {dir}[/]");
            return 130;
        }
        AnsiConsole.MarkupLineInterpolated($"trained {result.EpochsCompleted} epochs in {clock.Elapsed.TotalMinutes:F1} min at {result.ImagesPerSecond:F1} img/s; best validation loss {result.BestValidationLoss:F5}");

        var written = new List<(string What, string Path)>
        {
            ("best checkpoint", result.BestCheckpoint), ("last checkpoint", result.LastCheckpoint),
            ("resume checkpoint", Path.Combine(dir, Trainer.ResumeFile)), ("loss plot", Path.Combine(dir, Trainer.PlotFile)),
            ("losses", Path.Combine(dir, Trainer.LossesFile)), ("log", Path.Combine(dir, Trainer.LogFile)), ("config", Path.Combine(dir, Trainer.ConfigFile)),
        };
        if (o.Samples > 0)
        {
            string ddim = Path.Combine(dir, $"samples_ddim{o.DdimSteps}.png"), ddpm = Path.Combine(dir, $"samples_ddpm{o.Timesteps}.png");
            SampleCommand.Run(new(result.BestCheckpoint, "ddim", o.DdimSteps, 0, o.Samples, o.Seed, ddim, 4, null, null, null));
            SampleCommand.Run(new(result.BestCheckpoint, "ddpm", o.Timesteps, 0, o.Samples, o.Seed, ddpm, 4, null, null, null));
            written.Add(($"DDIM samples ({o.DdimSteps} steps)", ddim));
            written.Add(($"DDPM samples ({o.Timesteps} steps)", ddpm));
            if (o.Conditional)
            {
                string perClass = Path.Combine(dir, $"samples_classes_ddim{o.DdimSteps}.png");
                SampleCommand.Run(new(result.BestCheckpoint, "ddim", o.DdimSteps, 0, null, o.Seed, perClass, 4, null, null, null)
                    { PerClass = Math.Max(1, Math.Min(8, o.Samples)) });
                written.Add(($"DDIM samples per class (guidance {SpriteGenerator.DefaultGuidance})", perClass));
            }
        }
        var table = new Table().AddColumn("output").AddColumn("where");
        foreach (var (what, path) in written) table.AddRow(Markup.Escape(what), Markup.Escape(path));
        AnsiConsole.Write(table);
        return 0;
    }
}
