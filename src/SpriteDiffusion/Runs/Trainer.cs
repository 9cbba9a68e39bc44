using System.Diagnostics;
using System.Globalization;
using System.Text;
using SpriteDiffusion.Data;
using SpriteDiffusion.Diffusion;
using SpriteDiffusion.Engine;
using SpriteDiffusion.IO;
using SpriteDiffusion.Model;
using SpriteDiffusion.Training;
using SpriteDiffusion.Checkpoints;
using SpriteDiffusion.Generation;
using SpriteDiffusion.Imaging;
using SpriteDiffusion.Layers;

namespace SpriteDiffusion.Runs;

/// <summary>What a run is about to do, reported once before its first batch.</summary>
/// <param name="TrainImages">Images in the training split (after any limit).</param>
/// <param name="ValidationImages">Images held out for the validation loss.</param>
/// <param name="BatchesPerEpoch">Full batches per epoch; the last, partial batch is dropped.</param>
/// <param name="Epochs">The run's total number of epochs, earlier sessions included.</param>
/// <param name="StartEpoch">The 0-based epoch it starts in: 0, or where a resumed run stopped.</param>
/// <param name="StartBatch">The 0-based batch of that epoch it starts at.</param>
/// <param name="ParameterCount">The model's trainable values.</param>
/// <param name="DataDirectory">The data-set folder trained on.</param>
public sealed record TrainingPlan(int TrainImages, int ValidationImages, int BatchesPerEpoch, int Epochs, int StartEpoch, int StartBatch, long ParameterCount, string DataDirectory);
/// <summary>One trained batch, reported after the optimiser step.</summary>
/// <param name="Epoch">The 0-based epoch.</param>
/// <param name="Batch">The 0-based batch within the epoch.</param>
/// <param name="BatchesPerEpoch">Batches in each epoch.</param>
/// <param name="GlobalStep">Optimiser steps taken since the run began, this one included.</param>
/// <param name="Loss">The batch's noise-prediction MSE, before the update.</param>
/// <param name="ImagesPerSecond">Training images per second since this session started.</param>
public sealed record StepReport(int Epoch, int Batch, int BatchesPerEpoch, long GlobalStep, double Loss, double ImagesPerSecond);
/// <summary>One finished epoch, reported after its validation and checkpoints.</summary>
/// <param name="Epoch">The 1-based number of the epoch just finished.</param>
/// <param name="TrainLoss">The mean batch loss over the epoch.</param>
/// <param name="ValidationLoss">The validation loss of the weights sampling uses: the weight average's when there is one.</param>
/// <param name="Best">Whether that loss is the lowest so far, so best.safetensors was rewritten.</param>
/// <param name="Seconds">The epoch's wall time, validation and checkpoints included.</param>
/// <param name="ImagesPerSecond">Training images per second over the epoch's whole wall time.</param>
public sealed record EpochReport(int Epoch, double TrainLoss, double ValidationLoss, bool Best, double Seconds, double ImagesPerSecond);

/// <summary>What a run reports as it goes; the CLI draws it, tests record it.</summary>
public interface ITrainingObserver
{
    /// <summary>Before the first batch of this session; called on the training thread, as are the others.</summary>
    void OnStart(TrainingPlan plan) { }
    /// <summary>After every trained batch; keep it quick, it runs between batches.</summary>
    void OnStep(StepReport report) { }
    /// <summary>After each epoch's validation and checkpoints.</summary>
    void OnEpoch(EpochReport report) { }
    /// <summary>Every line the run writes to its log, without the time stamp.</summary>
    void OnMessage(string line) { }
    /// <summary>A time-budget run has measured its first epoch and planned its length.</summary>
    void OnPlanned(TrainingPlan plan) { }
}

/// <summary>One row of losses.csv; ValidationEma is the weight average's validation loss, when there is one.</summary>
/// <param name="Epoch">The 1-based epoch.</param>
/// <param name="Train">The mean training batch loss.</param>
/// <param name="Validation">The raw weights' validation loss.</param>
/// <param name="Seconds">The epoch's wall time.</param>
/// <param name="ValidationEma">The weight average's validation loss; null without an average.</param>
public sealed record EpochLosses(int Epoch, double Train, double Validation, double Seconds, double? ValidationEma);

/// <summary>How a run ended.</summary>
/// <param name="BestCheckpoint">The path of best.safetensors; it exists once an epoch of the run has finished.</param>
/// <param name="LastCheckpoint">The path of last.safetensors, the weights after the last finished epoch.</param>
/// <param name="BestValidationLoss">The lowest validation loss so far; infinity before the first epoch has finished.</param>
/// <param name="EpochsCompleted">Epochs finished since the run began, earlier sessions included.</param>
/// <param name="Interrupted">Whether cancellation stopped it; resume.safetensors then holds the place to resume from.</param>
/// <param name="ImagesPerSecond">Training images per second over this session.</param>
public sealed record TrainingResult(string BestCheckpoint, string LastCheckpoint, double BestValidationLoss, int EpochsCompleted, bool Interrupted, double ImagesPerSecond);

/// <summary>
/// DDPM training of the seed U-Net on a sprite data set: shuffled batches, validation after every
/// epoch, best and last checkpoints, a resumable checkpoint (also on cancellation), losses as CSV
/// and a plot. Every output is written atomically.
/// </summary>
public sealed class Trainer
{
    /// <summary>Checkpoint files in the output folder: the lowest validation loss, the latest epoch, and the state to resume from.</summary>
    public const string BestFile = "best.safetensors", LastFile = "last.safetensors", ResumeFile = "resume.safetensors";
    /// <summary>Other files in the output folder: the options as JSON, the losses per epoch as CSV, their plot, and the run's log.</summary>
    public const string ConfigFile = "config.json", LossesFile = "losses.csv", PlotFile = "loss.png", LogFile = "train.log";

    private TrainingOptions _o;
    private readonly ITrainingObserver _observer;
    private readonly List<EpochLosses> _history = [];
    // What checkpoints record of the recipe besides the options: the learning-rate plan as it
    // stands (re-planned on resume or once a time budget is measured) and the resolved class names.
    private LearningRateSchedule? _learningRate;
    private string[] _noFlipNames = [];

    /// <summary>
    /// A run of <paramref name="options"/> reporting to <paramref name="observer"/>; an unset output
    /// folder becomes runs/yyyyMMdd-HHmmss. Throws <see cref="ArgumentOutOfRangeException"/>, naming the option, for invalid options.
    /// </summary>
    public Trainer(TrainingOptions options, ITrainingObserver observer)
    {
        options.Validate();
        _o = options.Output is null ? options with { Output = Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)) } : options;
        _observer = observer;
    }

    /// <summary>The run's folder, where every output is written.</summary>
    public string OutputDirectory => _o.Output!;

    /// <summary>The options the run uses, with the output folder filled in.</summary>
    public TrainingOptions Options => _o;

    /// <summary>The clock a time budget is measured with; tests give a fake one so that the plan is reproducible.</summary>
    internal TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// Trains until the last epoch or until cancelled. Throws <see cref="IOException"/> when the output
    /// folder already holds a run and neither <paramref name="resume"/> nor <paramref name="force"/> is set,
    /// and <see cref="TrainingDivergedException"/> when the loss stops being finite.
    /// </summary>
    /// <param name="cancel">Stops the run before the next batch; a resume checkpoint is saved and the result says so.</param>
    /// <param name="resume">Continue the run in the output folder from its resume checkpoint.</param>
    /// <param name="force">Replace a finished or interrupted run that already lives in the output folder.</param>
    public TrainingResult Run(CancellationToken cancel, bool resume = false, bool force = false)
    {
        string output = OutputDirectory!;
        RemoveReplacedRun(output);
        var existing = RunFiles(output);
        if (!resume && existing.Count > 0)
        {
            if (!force)
                throw new IOException($"{output} already holds a training run ({string.Join(", ", existing.Take(4))}). Resume it, replace it, or choose another output folder.");
            ReplaceRun(output, existing);
        }
        if (_o.Threads is int threads) Workers.Threads = threads;
        AtomicFile.CreateFolder(OutputDirectory);
        string dataDir = _o.Data ?? BundledData.DefaultDirectory;
        var all = SpriteDataset.LoadDirectory(dataDir);
        if (_o.Limit is int limit && limit < all.Count) all = all.Subset(limit, _o.SplitSeed);
        var (train, validation) = all.Split(_o.ValidationFraction, _o.SplitSeed);
        if (train.Count < 1 || validation.Count < 1)
            throw new InvalidDataException($"{dataDir}: {all.Count} images are too few to split {_o.ValidationFraction:P0} off for validation.");
        int batch = Math.Min(_o.BatchSize, train.Count);

        var config = new UNetConfig(all.Channels, _o.NFeat, all.NumClasses, all.ImageSize) { Padding = _o.Tileable ? PaddingMode.Circular : PaddingMode.Zeros };
        var model = new UNet(config, _o.Seed);
        var adam = new Adam(model.Store, (float)_o.LearningRate);
        var schedule = NoiseSchedule.Create(_o.Schedule, _o.Timesteps);
        var objective = new NoiseObjective(model, adam, schedule, TimeInput.Parse(_o.TimeInput, "the training options"),
            Prediction.Parse(_o.Prediction, "the training options"), _o.Loss == LossWeights.MinSnrName ? _o.MinSnrGamma : null);
        double emaDecay = AverageDecay(batch);
        var ema = emaDecay > 0 ? new WeightAverage(model.Store, emaDecay) : null;
        var rng = new Rng(_o.Seed ^ 0x5EED_0000_0000_0001UL);
        var state = new RunState(model, adam, rng, ema, all.ClassNames);
        var noFlip = ResolveClasses(_o.NoFlipClasses, all.ClassNames);
        _noFlipNames = noFlip.Select(c => all.ClassNames[c]).ToArray();
        var loader = new BatchLoader(train, batch, (int)(_o.Seed % int.MaxValue), _o.Flip, dropLast: true, noFlip);
        bool budgeted = _o.TimeBudgetMinutes is not null;
        var learningRate = new LearningRateSchedule(LearningRateSchedule.Parse(_o.LrSchedule), _o.LearningRate, _o.WarmupSteps, _o.LrFloor,
            budgeted ? 0 : (long)_o.Epochs * loader.BatchesPerEpoch);
        var validationLoader = new BatchLoader(validation, batch, 0, flip: false, dropLast: false);

        var start = new ResumePoint(0, 0, 0, double.PositiveInfinity, 0);
        string resumePath = Path.Combine(OutputDirectory, ResumeFile);
        string? replanned = null;
        if (resume)
        {
            TrainingRecipe? recorded;
            (start, recorded) = Resume(resumePath, state);
            LoadHistory();
            if (recorded is not null) learningRate = ResumedLearningRate(resumePath, recorded, learningRate);
            long planned = budgeted ? learningRate.TotalSteps : (long)_o.Epochs * loader.BatchesPerEpoch;
            if (budgeted && planned > 0) _o = _o with { Epochs = recorded!.PlannedEpochs };
            if (planned > 0 && planned != learningRate.TotalSteps)
            {
                replanned = learningRate.TotalSteps == 0 || learningRate.Decay == LearningRateDecay.Constant ? null
                    : $"the run now ends after {_o.Epochs} epochs, not {learningRate.TotalSteps / loader.BatchesPerEpoch}: the rest of the learning-rate decay stretches over the new remainder";
                learningRate = learningRate.Replan(start.Step, planned);
            }
        }
        else File.Delete(Path.Combine(OutputDirectory, LogFile));
        _learningRate = learningRate;
        budgeted &= learningRate.TotalSteps == 0;
        int startEpoch = start.Epoch, startBatch = start.Batch;
        double bestValidation = start.BestValidation, partialLoss = start.PartialLoss;
        AtomicFile.WriteAllText(Path.Combine(OutputDirectory, ConfigFile), _o.ToJson());

        _observer.OnStart(new TrainingPlan(train.Count, validation.Count, loader.BatchesPerEpoch, budgeted ? 1 : _o.Epochs, startEpoch, startBatch, model.Store.ParameterCount, dataDir));
        Log($"training n_feat={_o.NFeat} on {train.Count} images ({validation.Count} for validation) from {dataDir}, batch {batch}, "
            + (budgeted ? $"as many epochs as fit in {_o.TimeBudgetMinutes} minutes" : $"{_o.Epochs} epochs") + $", lr {_o.LearningRate}, seed {_o.Seed}, threads {Workers.Threads}, "
            + (_o.Conditional ? $"conditional on {all.NumClasses} classes (null context {_o.ContextDropout:P0})" : "unconditional")
            + (ema is null ? "" : _o.EmaHalflife is double h ? $", EMA half-life {h} images (decay {emaDecay:R} per step)" : $", EMA decay {_o.EmaDecay}")
            + RecipeText());
        if (replanned is not null) Log(replanned);

        var x0 = Tensor.Zeros(batch, config.InChannels, config.Height, config.Height);
        var context = Tensor.Zeros(batch, config.NCFeat);
        var throughput = Stopwatch.StartNew();
        long imagesSeen = 0, step = (long)startEpoch * loader.BatchesPerEpoch + startBatch;
        int epoch = startEpoch;
        for (; epoch < _o.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            long epochStarted = Clock.GetTimestamp();
            loader.StartEpoch(epoch);
            int first = epoch == startEpoch ? startBatch : 0;
            double lossSum = epoch == startEpoch ? partialLoss : 0;
            for (int skip = 0; skip < first; skip++) loader.Next(x0.Span, Span<float>.Empty);
            for (int b = first; b < loader.BatchesPerEpoch; b++)
            {
                if (cancel.IsCancellationRequested)
                {
                    SaveResume(resumePath, state, new ResumePoint(epoch, b, step, bestValidation, lossSum));
                    Log($"interrupted at epoch {epoch + 1}, batch {b}: saved {resumePath}; resume the run to continue");
                    return Result(true, epoch, bestValidation, throughput, imagesSeen);
                }
                loader.Next(x0.Span, _o.Conditional ? context.Span : Span<float>.Empty);
                if (_o.Conditional) ContextDropout.Apply(context.Span, config.NCFeat, _o.ContextDropout, rng);
                adam.LearningRate = (float)learningRate.At(step);
                double loss = objective.Step(x0, context, rng);
                ema?.Update(adam.Step - 1);
                if (!double.IsFinite(loss))
                    throw new TrainingDivergedException(loss, epoch + 1, b + 1, Path.Combine(OutputDirectory, LastFile));
                lossSum += loss;
                step++;
                imagesSeen += batch;
                _observer.OnStep(new StepReport(epoch, b, loader.BatchesPerEpoch, step, loss, imagesSeen / throughput.Elapsed.TotalSeconds));
            }
            long trained = Clock.GetTimestamp();
            double trainLoss = lossSum / loader.BatchesPerEpoch;
            double validationLoss = Validate(objective, validationLoader, x0, context);
            double? averageLoss = null;
            if (ema is not null)
            {
                ema.Swap();
                try { averageLoss = Validate(objective, validationLoader, x0, context); }
                finally { ema.Swap(); }
            }
            if (budgeted)
            {
                // From this session's share of the epoch where a resume split it, validation included.
                double seconds = Clock.GetElapsedTime(epochStarted, trained).TotalSeconds * loader.BatchesPerEpoch / Math.Max(1, loader.BatchesPerEpoch - first)
                    + Clock.GetElapsedTime(trained).TotalSeconds;
                int planned = (int)Math.Clamp(Math.Floor(_o.TimeBudgetMinutes!.Value * 60 / Math.Max(seconds, 1e-9)), 1, 1_000_000);
                _o = _o with { Epochs = planned };
                learningRate = _learningRate = learningRate.Replan(step, (long)planned * loader.BatchesPerEpoch);
                budgeted = false;
                AtomicFile.WriteAllText(Path.Combine(OutputDirectory, ConfigFile), _o.ToJson());
                Log(string.Create(CultureInfo.InvariantCulture, $"time budget {_o.TimeBudgetMinutes} minutes: the first epoch took {seconds:F1} s, so the run trains {planned} epochs"));
                _observer.OnPlanned(new TrainingPlan(train.Count, validation.Count, loader.BatchesPerEpoch, planned, startEpoch, startBatch, model.Store.ParameterCount, dataDir));
            }
            // Best by the weights that sampling will use.
            double sampledLoss = averageLoss ?? validationLoss;
            bool best = sampledLoss < bestValidation;
            if (best) bestValidation = sampledLoss;
            var info = Recorded(Info(config, all.ClassNames, epoch + 1, step, sampledLoss, trainLoss));
            Checkpoint.Save(Path.Combine(OutputDirectory, LastFile), model, info, ema);
            if (best) Checkpoint.Save(Path.Combine(OutputDirectory, BestFile), model, info, ema);
            SaveResume(resumePath, state, new ResumePoint(epoch + 1, 0, step, bestValidation, 0));
            _history.Add(new(epoch + 1, trainLoss, validationLoss, epochClock.Elapsed.TotalSeconds, averageLoss));
            WriteLosses();
            if (_o.SampleEvery is int every && (epoch + 1) % every == 0) WriteEpochSamples(model, ema, info, epoch + 1);
            double ips = loader.BatchesPerEpoch * batch / epochClock.Elapsed.TotalSeconds;
            string averaged = averageLoss is double a ? string.Create(CultureInfo.InvariantCulture, $" val_loss_ema={a:F5}") : "";
            Log(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{_o.Epochs} train_loss={trainLoss:F5} val_loss={validationLoss:F5}{averaged}{(best ? " (best)" : "")} {epochClock.Elapsed.TotalSeconds:F1}s {ips:F1} img/s"));
            _observer.OnEpoch(new EpochReport(epoch + 1, trainLoss, sampledLoss, best, epochClock.Elapsed.TotalSeconds, ips));
        }
        return Result(false, epoch, bestValidation, throughput, imagesSeen);
    }

    /// <summary>The folder a replaced run's files are moved into before they are deleted; left only by a kill, and removed by the next run there.</summary>
    public const string ReplacedFolder = ".replaced-run.tmp";

    /// <summary>The files of a run in <paramref name="folder"/>, the resume checkpoint first: any of them makes the folder a run's.</summary>
    public static List<string> RunFiles(string folder)
    {
        if (!Directory.Exists(folder)) return [];
        var names = new List<string>();
        foreach (string name in new[] { ResumeFile, LastFile, BestFile, ConfigFile, LossesFile, PlotFile, LogFile })
            if (File.Exists(Path.Combine(folder, name))) names.Add(name);
        names.AddRange(Directory.EnumerateFiles(folder, "samples_*.png").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal));
        return names;
    }

    /// <summary>
    /// Moves the old run's files aside, the resume checkpoint first, then deletes them: from the first
    /// rename on nothing can resume into the old run, and the new run writes nothing until every old
    /// file is gone, so a kill at any moment leaves the old run (without its resume point) or the new
    /// one, never a mix. Files that are not a run's are left where they are.
    /// </summary>
    internal static void ReplaceRun(string folder, IReadOnlyList<string> files, Action<int>? afterMove = null)
    {
        string aside = Path.Combine(folder, ReplacedFolder);
        Directory.CreateDirectory(aside);
        for (int i = 0; i < files.Count; i++)
        {
            File.Move(Path.Combine(folder, files[i]), Path.Combine(aside, files[i]), overwrite: true);
            afterMove?.Invoke(i);
        }
        Directory.Delete(aside, recursive: true);
    }

    /// <summary>What a killed replacement left behind: files of a run the user chose to replace.</summary>
    private static void RemoveReplacedRun(string folder)
    {
        string aside = Path.Combine(folder, ReplacedFolder);
        if (Directory.Exists(aside)) Directory.Delete(aside, recursive: true);
    }

    private TrainingResult Result(bool interrupted, int epochs, double best, Stopwatch clock, long images) =>
        new(Path.Combine(OutputDirectory, BestFile), Path.Combine(OutputDirectory, LastFile), best, epochs, interrupted, images / Math.Max(1e-9, clock.Elapsed.TotalSeconds));

    /// <summary>
    /// The noise loss on the validation split, with the same images, t and noise every epoch so
    /// epochs compare; reuses the training batch buffers.
    /// </summary>
    private double Validate(NoiseObjective objective, BatchLoader loader, Tensor x0, Tensor context)
    {
        var rng = new Rng(_o.Seed ^ 0x7A11_DA7E_0000_0001UL);
        loader.StartEpoch(0);
        double sum = 0;
        int count = 0, n;
        while ((n = loader.Next(x0.Span, _o.Conditional ? context.Span : Span<float>.Empty)) > 0)
        {
            var x = n == x0.Dim(0) ? x0 : x0.View(0, n, x0.Dim(1), x0.Dim(2), x0.Dim(3));
            var c = n == context.Dim(0) ? context : context.View(0, n, context.Dim(1));
            sum += objective.Evaluate(x, c, rng) * n;
            count += n;
        }
        return sum / count;
    }

    private CheckpointInfo Info(UNetConfig config, string[] classes, int epoch, long step, double? validationLoss, double? trainLoss) => new()
    {
        Model = config, Schedule = _o.Schedule, Timesteps = _o.Timesteps, TimeInput = _o.TimeInput, ClassNames = classes,
        Alpha = config.InChannels == 4 ? CheckpointInfo.StraightAlpha : null,
        Conditional = _o.Conditional, ContextDropout = _o.Conditional ? _o.ContextDropout : 0,
        Epoch = epoch, Step = step, ValidationLoss = validationLoss, TrainLoss = trainLoss,
        // The split travels with the weights so that evaluation can find the run's own training and
        // validation images again (SpriteDataset.Split depends only on the count, fraction and seed).
        Extra = new(new Evaluation.TrainingSplit(_o.ValidationFraction, _o.SplitSeed, _o.Limit).ToMetadata())
        {
            ["data"] = _o.Data ?? BundledData.RelativePath, ["seed"] = _o.Seed.ToString(CultureInfo.InvariantCulture), ["batch_size"] = _o.BatchSize.ToString(CultureInfo.InvariantCulture),
        },
    };

    /// <summary>The file <see cref="TrainingOptions.SampleEvery"/> writes after <paramref name="epoch"/>.</summary>
    public static string EpochSamplesFile(int epoch) => $"samples_epoch{epoch:D4}.png";

    /// <summary>
    /// A grid of what the model draws now, with the weights sampling uses: DDIM at eta 0 from a
    /// generator of its own, so the run's own random draws (and so a resumed run) are untouched.
    /// Conditional runs cycle through the classes with the default guidance.
    /// </summary>
    private void WriteEpochSamples(UNet model, WeightAverage? ema, CheckpointInfo info, int epoch)
    {
        int count = _o.Samples > 0 ? _o.Samples : 16;
        ema?.Swap();
        try
        {
            var generator = new SpriteGenerator(model, info) { ClipDenoised = true };
            var sampler = generator.CreateSampler(DdimSampler.SamplerName, Math.Min(_o.DdimSteps, info.Timesteps), 0);
            float[]? context = null;
            if (info.Conditional)
            {
                generator.Guidance = SpriteGenerator.DefaultGuidance;
                context = generator.OneHot(Enumerable.Range(0, count).Select(i => i % model.Config.NCFeat).ToArray());
            }
            var samples = generator.Generate(sampler, count, new Rng(_o.Seed ^ 0x5A3B_1E5E_0000_0001UL), default, context);
            var sprites = SpriteFinishing.Finish(samples, count, model.Config.InChannels, model.Config.Height, SpriteFinish.None);
            Png.Write(Path.Combine(OutputDirectory, EpochSamplesFile(epoch)), SpriteImages.Grid(sprites, 4));
        }
        finally { ema?.Swap(); }
    }

    /// <summary>What a run trains and draws from: everything a resume checkpoint holds besides its position.</summary>
    private sealed record RunState(UNet Model, Adam Adam, Rng Rng, WeightAverage? Average, string[] ClassNames);

    /// <summary>Where a run stands: the next batch to train, and what the finished part of the run found.</summary>
    private readonly record struct ResumePoint(int Epoch, int Batch, long Step, double BestValidation, double PartialLoss);

    private void SaveResume(string path, RunState state, ResumePoint at)
    {
        var info = Recorded(Info(state.Model.Config, state.ClassNames, at.Epoch, at.Step, null, null)) with
        {
            Extra = new()
            {
                ["resume_epoch"] = at.Epoch.ToString(CultureInfo.InvariantCulture),
                ["resume_batch"] = at.Batch.ToString(CultureInfo.InvariantCulture),
                ["best_validation_loss"] = at.BestValidation.ToString("R", CultureInfo.InvariantCulture),
                ["partial_loss_sum"] = at.PartialLoss.ToString("R", CultureInfo.InvariantCulture),
            },
        };
        Checkpoint.SaveResumable(path, state.Model, state.Adam, info, state.Rng.GetState(), state.Average);
    }

    private (ResumePoint Point, TrainingRecipe? Recipe) Resume(string path, RunState state)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: nothing to resume (no resume checkpoint in this output folder). Start a new run instead.");
        var (info, rngState) = Checkpoint.LoadResumable(path, state.Model, state.Adam, state.Average);
        if (info.Conditional != _o.Conditional)
            throw new InvalidDataException($"{path}: the run was trained {(info.Conditional ? "conditional" : "unconditional")}; resume it with the same conditioning (the run's config.json has it).");
        if (info.Prediction != _o.Prediction)
            throw new InvalidDataException($"{path}: the run's network learned to predict {info.Prediction}; resume it with the same prediction target (the run's config.json has it), or start a new run to predict {_o.Prediction}.");
        state.Rng.SetState(rngState);
        // A damaged value is refused, never replaced by a default: resuming from the wrong place would mix runs.
        string Raw(string key) => info.Extra.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"{path}: the resume checkpoint has no '{key}' in its metadata; it is damaged or not a resume checkpoint. Start a new run instead (--force).");
        int Count(string key) => int.TryParse(Raw(key), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v
            : throw new InvalidDataException($"{path}: '{key}' in the resume checkpoint's metadata is '{Raw(key)}', not a count; the file is damaged.");
        double Number(string key) => double.TryParse(Raw(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && !double.IsNaN(v) && v >= 0 ? v
            : throw new InvalidDataException($"{path}: '{key}' in the resume checkpoint's metadata is '{Raw(key)}', not a loss; the file is damaged.");
        var point = new ResumePoint(Count("resume_epoch"), Count("resume_batch"), info.Step, Number("best_validation_loss"), Number("partial_loss_sum"));
        return (point, info.Recipe);
    }

    /// <summary>
    /// The learning-rate plan a resumed run continues: the recorded one, whose decay has an anchor
    /// that the options cannot reconstruct. A constant rate has no plan to keep, so the options
    /// decide it as they did before schedules existed (a lower learning rate on resume is a manual decay).
    /// </summary>
    private LearningRateSchedule ResumedLearningRate(string path, TrainingRecipe recorded, LearningRateSchedule requested)
    {
        var saved = recorded.LearningRate;
        if (saved.Decay == LearningRateDecay.Constant && requested.Decay == LearningRateDecay.Constant) return requested with { TotalSteps = saved.TotalSteps };
        if (saved.Decay != requested.Decay || saved.Peak != requested.Peak || saved.Floor != requested.Floor || saved.WarmupSteps != requested.WarmupSteps)
            throw new InvalidDataException($"{path}: the run's learning rate follows {Describe(saved)}; resume it with the same schedule (the run's config.json has it). Only its length may change: more epochs stretch the rest of the decay.");
        return saved;
    }

    private static string Describe(LearningRateSchedule s) =>
        string.Create(CultureInfo.InvariantCulture, $"a {LearningRateSchedule.Name(s.Decay)} schedule from {s.Peak}")
        + (s.Decay == LearningRateDecay.Constant ? "" : string.Create(CultureInfo.InvariantCulture, $" to {s.Floor}"))
        + (s.WarmupSteps > 0 ? $" after {s.WarmupSteps} warm-up steps" : "");

    /// <summary>The recipe beyond the start-up line's basics, for the log; empty for the seed's recipe.</summary>
    private string RecipeText()
    {
        var parts = new List<string>();
        if (_o.Prediction != Prediction.NoiseName) parts.Add($"predicting {_o.Prediction}");
        if (_o.Loss == LossWeights.MinSnrName) parts.Add(string.Create(CultureInfo.InvariantCulture, $"min-SNR loss (gamma {_o.MinSnrGamma})"));
        if (_learningRate is { } lr && (lr.Decay != LearningRateDecay.Constant || lr.WarmupSteps > 0)) parts.Add($"learning rate: {Describe(lr)}");
        if (_noFlipNames.Length > 0) parts.Add($"never flipping {string.Join(", ", _noFlipNames)}");
        return parts.Count == 0 ? "" : ", " + string.Join(", ", parts);
    }

    /// <summary>Adds what the recipe options decided to a checkpoint's information.</summary>
    private CheckpointInfo Recorded(CheckpointInfo info) => info with
    {
        Prediction = _o.Prediction,
        Recipe = new TrainingRecipe
        {
            Loss = _o.Loss,
            MinSnrGamma = _o.Loss == LossWeights.MinSnrName ? _o.MinSnrGamma : null,
            LearningRate = _learningRate!,
            PlannedEpochs = _learningRate!.TotalSteps == 0 ? 0 : _o.Epochs,
            TimeBudgetMinutes = _o.TimeBudgetMinutes,
            EmaHalflife = _o.EmaHalflife,
            Flip = _o.Flip,
            NoFlipClasses = _noFlipNames,
        },
    };

    /// <summary>The weight average's decay per step (0: none), from the decay or from the half-life in images.</summary>
    private double AverageDecay(int batch) => AverageDecay(_o.EmaDecay, _o.EmaHalflife, batch);

    /// <summary>The decay per step of an average given by <paramref name="decay"/> or by a half-life in images at <paramref name="batch"/> images per step.</summary>
    internal static double AverageDecay(double decay, double? halflifeImages, int batch)
    {
        if (halflifeImages is not double halflife) return decay;
        decay = Math.Pow(0.5, batch / halflife);
        if (!(decay > 0 && decay < 1))
            throw new ArgumentOutOfRangeException(nameof(TrainingOptions.EmaHalflife), $"a half-life of {halflife} images at batch {batch} makes the decay per step {decay}, which averages nothing; give a half-life nearer the batch size times the steps to average over.");
        return decay;
    }

    /// <summary>Class indices named by name (case-insensitive) or index.</summary>
    private static int[] ResolveClasses(string[] namesOrIndices, string[] classNames)
    {
        var result = new SortedSet<int>();
        foreach (string entry in namesOrIndices)
        {
            string wanted = entry.Trim();
            int found = Array.FindIndex(classNames, n => string.Equals(n, wanted, StringComparison.OrdinalIgnoreCase));
            if (found < 0 && int.TryParse(wanted, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index) && index >= 0 && index < classNames.Length)
                found = index;
            if (found < 0)
                throw new ArgumentOutOfRangeException(nameof(TrainingOptions.NoFlipClasses),
                    $"unknown class '{wanted}' to exempt from flips: the data set has {string.Join(", ", classNames.Select((n, i) => $"{i} '{n}'"))}.");
            result.Add(found);
        }
        return [.. result];
    }

    private void LoadHistory()
    {
        string path = Path.Combine(OutputDirectory, LossesFile);
        if (!File.Exists(path)) return;
        var lines = InputFile.ReadAllLines(path);
        for (int row = 1; row < lines.Length; row++)
        {
            if (lines[row].Length == 0) continue;
            var f = lines[row].Split(',');
            InvalidDataException Damaged(string why) => new($"{path}, line {row + 1}: {why}; the file is damaged. Repair or delete that line (the plot is redrawn from the rest), or start a new run.");
            if (f.Length is < 4 or > 5) throw Damaged($"{f.Length} fields where a row has 4 or 5");
            double P(int i) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
                : throw Damaged($"'{f[i]}' is not a finite number");
            if (!int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out int epoch) || epoch < 1) throw Damaged($"'{f[0]}' is not an epoch number");
            if (_history.Count > 0 && epoch <= _history[^1].Epoch) throw Damaged($"epoch {epoch} does not follow epoch {_history[^1].Epoch}");
            _history.Add(new(epoch, P(1), P(2), P(3), f.Length > 4 && f[4].Length > 0 ? P(4) : null));
        }
    }

    private void WriteLosses()
    {
        var csv = new StringBuilder("epoch,train_loss,val_loss,seconds,val_loss_ema\n");
        foreach (var h in _history) csv.Append(CultureInfo.InvariantCulture, $"{h.Epoch},{h.Train:R},{h.Validation:R},{h.Seconds:F2},{h.ValidationEma:R}\n");
        AtomicFile.WriteAllText(Path.Combine(OutputDirectory, LossesFile), csv.ToString());
        string loss = (_o.Prediction == Prediction.NoiseName ? "eps" : _o.Prediction) + " target, "
            + (_o.Loss == LossWeights.MinSnrName ? string.Create(CultureInfo.InvariantCulture, $"min-SNR-{_o.MinSnrGamma} MSE") : "MSE");
        LossPlot.Write(Path.Combine(OutputDirectory, PlotFile), _history, string.Create(CultureInfo.InvariantCulture, $"{loss}; n_feat {_o.NFeat}, batch {_o.BatchSize}, lr {_o.LearningRate}"));
    }

    private void Log(string line)
    {
        string stamped = $"{DateTime.Now:yyyy-MM-dd HH:mm:ss} {line}";
        File.AppendAllText(Path.Combine(OutputDirectory, LogFile), stamped + Environment.NewLine);
        _observer.OnMessage(line);
    }
}
